"""The MIC's SAML assertion consumer, beyond what the scenarios drive: a Response posted
twice, an IdP-initiated one, garbage, a service whose certificate is not one; and what
SAML 2.0 allows an IdP to leave out (taken) or forbids (refused)."""
import base64
import re
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from lxml import etree

import mic_reference
from mic_reference.connectors import saml_response as rules
from mic_reference.connectors.capabilities import ConnectorError, SamlLogin
from mic_reference.connectors.saml import AssertionChecks
from mock_idps.saml import responses
from mock_idps.saml.idp import security_context
from plumbing.xmldsig import generate_identity


def _form(html: str) -> tuple[str, dict[str, str]]:
    return re.search(r'action="([^"]+)"', html).group(1), dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))


@pytest.fixture
def saml_response(fleet):
    """A genuine Response for alice, as the IdP had the browser post it, not yet posted."""
    target = fleet.target
    with httpx2.Client(follow_redirects=True) as browser:
        query = urlencode({"client_id": f"{target.app_key}.saml-redirect", "redirect_uri": target.redirect_uri,
                           "response_type": "code", "state": "s1"})
        page = browser.get(f"{target.mic}/v2/oauth/auth?{query}")
        action, _ = _form(page.text)
        answer = browser.post(httpx2.URL(str(page.url)).join(action), data={"username": "alice", "password": "wonderland"})
        return _form(answer.text)


def test_a_response_is_taken_once(fleet, saml_response):
    acs, fields = saml_response
    first = httpx2.post(acs, data=fields)
    assert first.status_code == 302 and "code" in parse_qs(urlsplit(first.headers["location"]).query)
    again = httpx2.post(acs, data=fields)
    assert again.status_code == 400 and "already done" in again.json()["error_description"]


def test_a_response_posted_to_another_versions_consumer_is_refused(fleet, saml_response):
    acs, fields = saml_response
    answer = httpx2.post(acs.replace("/v2/saml/assertion/", "/v3/saml/assertion"), data=fields)
    assert answer.status_code == 400


def test_idp_initiated_responses_are_refused(fleet):
    idp, mic = fleet.urls["saml-idp"], fleet.urls["mic"]
    with httpx2.Client() as browser:
        page = browser.get(f"{idp}/saml/idp-initiated",
                           params={"sp": f"{mic}/kinvey-mobile-identity-connect", "acs": f"{mic}/v2/saml/assertion/"})
        action, _ = _form(page.text)
        acs, fields = _form(browser.post(f"{idp}{action}", data={"username": "alice", "password": "wonderland"}).text)
    answer = httpx2.post(acs, data=fields)
    assert answer.status_code == 400 and "IdP-initiated responses are refused" in answer.json()["error_description"]


@pytest.mark.parametrize("junk, said", [("%%%", "not Base64"), (base64.b64encode(b"<not-xml").decode(), "well-formed"),
                                         (base64.b64encode(b"<a/>").decode(), "not a Response")])
def test_garbage_gets_an_error_redirect_not_a_500(fleet, saml_response, junk, said):
    acs, fields = saml_response
    answer = httpx2.post(acs, data={**fields, "SAMLResponse": junk})
    assert answer.status_code == 302, answer.text
    error = parse_qs(urlsplit(answer.headers["location"]).query)
    assert error["error"] == ["access_denied"] and said in error["error_description"][0]


def test_a_service_without_a_usable_certificate_says_so():
    app = mic_reference.create_app(variables={"OAUTH2_IDP": "http://idp", "APP": "http://app"}, test_mode=True)
    metadata = app.test_client().get("/v3/saml/metadata")
    assert metadata.status_code == 200 and b"kinvey-mobile-identity-connect" in metadata.data
    connector = app.extensions["mic"].clients("kid_demo.saml-post").connector
    assert isinstance(connector, SamlLogin)
    with pytest.raises(ConnectorError, match="not an X.509 certificate"):
        connector.complete_post({"SAMLResponse": "x"}, "e", "http://a", "r", 0.0, lambda key, until: True)


ACS, SP, IDP, REQUEST = ("http://mic.test/v3/saml/assertion", "http://mic.test/kinvey-mobile-identity-connect",
                         "http://idp.test/saml/metadata", "_request-1")
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


class _EditedThenSigned:
    """The IdP's security context, with ``edit`` applied to the Response before its first signature."""

    def __init__(self, security, edit) -> None:
        self.security, self.edit = security, edit

    def sign_statement(self, xml, node_name, key_file, node_id):
        xml, self.edit = (self.edit or (lambda text: text))(xml), None
        return self.security.sign_statement(xml, node_name, key_file=key_file, node_id=node_id)


def _without(local: str, parent: str):
    """An edit that removes the Response's (or its assertion's) ``local`` child."""
    def edit(xml: str) -> str:
        root = etree.fromstring(xml.encode())
        holder = root if parent == "Response" else root.find(f"{{{rules.SAML}}}Assertion")
        holder.remove(holder.find(f"{{{rules.SAML}}}{local}"))
        return etree.tostring(root).decode()
    return edit


def _confirmation_and_conditions(change):
    """An edit of the assertion's bearer SubjectConfirmationData and Conditions (``change(data, conditions)``)."""
    def edit(xml: str) -> str:
        root = etree.fromstring(xml.encode())
        assertion = root.find(f"{{{rules.SAML}}}Assertion")
        change(assertion.find(f".//{{{rules.SAML}}}SubjectConfirmationData"),
               assertion.find(f"{{{rules.SAML}}}Conditions"))
        return etree.tostring(root).decode()
    return edit


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    return generate_identity(tmp_path_factory.mktemp("idp"), "idp", "test IdP")


def _checks(certificate: str) -> AssertionChecks:
    """What a SAML service of the MIC checks, configured with this IdP certificate."""
    options = {"idpCertificate": certificate, "idpEntityId": IDP, "nameIdFormat": EMAIL}
    return AssertionChecks(SimpleNamespace(provider=SimpleNamespace(options=options, remote_service=IDP)))


def _read(signer, *, sign_response=False, destination=ACS, edit=None, certificate=None):
    """A Response as an IdP signs it (the assertion always), read by the MIC's rules."""
    now = time.time()
    draft = responses.Draft(issuer=IDP, destination=destination, recipient=ACS, audience=SP, in_response_to=REQUEST,
                            name_id="alice@example.com", name_id_format=EMAIL, attributes={"email": ["alice@example.com"]},
                            issue_instant=now, not_before=now, not_on_or_after=now + 300, signer=signer,
                            sign_response=sign_response)
    xml = responses.sign(draft, _EditedThenSigned(security_context("binding", signer), edit))
    expected = _checks(certificate or signer.cert_base64).expected(SP, now)
    return rules.read(base64.b64encode(xml.encode()).decode(),
                      rules.ExpectedResponse(**vars(expected), acs_url=ACS, request_id=REQUEST))


@pytest.mark.parametrize("form", ["pem", "pem-on-one-line", "base64-der", "base64-der-wrapped"])
def test_the_idp_certificate_is_pem_or_base64_der(signer, form):
    pem = Path(signer.cert_file).read_text()
    given = {"pem": pem, "pem-on-one-line": " ".join(pem.split()), "base64-der": signer.cert_base64,
             "base64-der-wrapped": "\r\n".join(textwrap.wrap(signer.cert_base64, 76))}[form]
    assert _read(signer, certificate=given).name_id == "alice@example.com"


def test_an_assertion_signed_by_another_key_is_refused(signer, tmp_path):
    other = generate_identity(tmp_path, "other", "not the IdP")
    with pytest.raises(ConnectorError, match="signature does not verify with the configured IdP certificate"):
        _read(signer, certificate=other.cert_base64)


@pytest.mark.parametrize("sign_response, destination, edit", [
    (False, None, None),  # Destination is optional on an unsigned Response (SAML 2.0 Bindings 3.5.5.2)
    (False, ACS, _without("Issuer", "Response")),  # so is its Issuer (Core 3.2.2)
    (True, ACS, None),
    # Conditions' NotOnOrAfter is optional (Core 2.5.1); the bearer confirmation bounds the assertion
    (False, ACS, _confirmation_and_conditions(lambda data, conditions: conditions.attrib.pop("NotOnOrAfter"))),
], ids=["unsigned-without-destination", "unsigned-without-issuer", "both-signed", "conditions-without-end"])
def test_what_saml_allows_is_taken(signer, sign_response, destination, edit):
    assert _read(signer, sign_response=sign_response, destination=destination, edit=edit).name_id == "alice@example.com"


@pytest.mark.parametrize("sign_response, destination, edit, said", [
    (True, None, None, "the signed response names no Destination"),
    (True, ACS, _without("Issuer", "Response"), "the response's issuer is not the configured identity provider"),
    (False, ACS, _without("AuthnStatement", "Assertion"), "the assertion has no AuthnStatement"),
    (False, ACS, _confirmation_and_conditions(lambda data, conditions: data.set("NotBefore", "2000-01-01T00:00:00Z")),
     "the bearer subject confirmation has a NotBefore"),
], ids=["signed-without-destination", "signed-without-issuer", "no-authn-statement", "bearer-not-before"])
def test_what_saml_forbids_is_refused(signer, sign_response, destination, edit, said):
    with pytest.raises(ConnectorError) as refused:
        _read(signer, sign_response=sign_response, destination=destination, edit=edit)
    assert refused.value.error == "access_denied" and said in refused.value.description
