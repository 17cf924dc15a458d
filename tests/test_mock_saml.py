"""The mock SAML IdP is strict about what it is asked, signs with RSA-SHA256, and its
Responses are accepted, and its tampered ones refused, by an SP none of our code wrote:
OneLogin's python3-saml toolkit."""
import base64
import re
import zlib
from urllib.parse import urlencode

import pytest
from lxml import etree
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from saml2 import saml, samlp

from mock_idps import saml as saml_idp
from plumbing.clock import SystemClock
from plumbing.xmldsig import parse

MIC = "http://mic.test"
ENTITY = f"{MIC}/kinvey-mobile-identity-connect"
ACS = f"{MIC}/v2/saml/assertion/"
IDP = "http://localhost"  # Flask's test client
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


@pytest.fixture(scope="module")
def app():
    return saml_idp.create_app(clock=SystemClock(), test_mode=True, variables={"MIC": MIC})


@pytest.fixture
def idp(app):
    client = app.test_client()
    yield client
    client.delete("/_control/faults")


def authn_request(request_id="_req1", issuer=ENTITY, acs=ACS, instant=None, name_id_format=EMAIL,
                  destination=f"{IDP}/saml/sso/redirect"):
    return samlp.AuthnRequest(
        id=request_id, version="2.0", issue_instant=instant or saml_now(), destination=destination,
        assertion_consumer_service_url=acs, protocol_binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        issuer=saml.Issuer(text=issuer), name_id_policy=samlp.NameIDPolicy(format=name_id_format, allow_create="true"))


def saml_now(offset=0):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(SystemClock().now() + offset))


def redirect_query(request, relay_state="ref-1"):
    deflated = zlib.compress(str(request).encode())[2:-4]
    return urlencode({"SAMLRequest": base64.b64encode(deflated).decode(), "RelayState": relay_state})


def sign_in(idp, request=None, username="alice", password="wonderland"):
    page = idp.get(f"/saml/sso/redirect?{redirect_query(request or authn_request())}")
    assert page.status_code == 200 and b"Sign in" in page.data, page.data
    action = re.search(r'action="([^"]+)"', page.get_data(as_text=True)).group(1)
    return idp.post(action, data={"username": username, "password": password})


def posted(answer):
    """The Response (XML) and RelayState of the IdP's auto-posting form."""
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    assert re.search(r'action="([^"]+)"', html).group(1) == ACS
    return base64.b64decode(fields["SAMLResponse"]).decode(), fields.get("RelayState")


def onelogin(app):
    idp = app.extensions["saml_idp"]
    return OneLogin_Saml2_Settings({
        "strict": True,
        "sp": {"entityId": ENTITY, "assertionConsumerService": {"url": ACS}, "NameIDFormat": EMAIL},
        "idp": {"entityId": f"{IDP}/saml/metadata", "singleSignOnService": {"url": f"{IDP}/saml/sso/redirect"},
                "x509cert": idp.signer.cert_base64},
        "security": {"wantAssertionsSigned": True, "rejectDeprecatedAlgorithm": True},
    }, sp_validation_only=True)


def onelogin_accepts(app, xml, request_id="_req1"):
    """python3-saml's verdict on a Response, as its own SP would give it: (valid, error)."""
    try:
        response = OneLogin_Saml2_Response(onelogin(app), base64.b64encode(xml.encode()).decode())
    except Exception as exc:  # it refuses some documents before it will even hold them (DTDs)
        return False, repr(exc), None
    # where python3-saml believes it was posted to: the assertion consumer
    request_data = {"https": "off", "http_host": "mic.test", "script_name": "/v2/saml/assertion/"}
    valid = response.is_valid(request_data, request_id=request_id, raise_exceptions=False)
    return valid, response.get_error(), response


def test_sp_initiated_login_signs_the_assertion_with_rsa_sha256(app, idp):
    xml, relay_state = posted(sign_in(idp))
    assert relay_state == "ref-1"
    root = parse(xml)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#", "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
    assert root.xpath("saml:Assertion/ds:Signature/ds:SignedInfo/ds:SignatureMethod/@Algorithm", namespaces=ns) \
        == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert root.xpath("//ds:DigestMethod/@Algorithm", namespaces=ns) == ["http://www.w3.org/2001/04/xmlenc#sha256"]
    assert root.get("InResponseTo") == "_req1" and root.get("Destination") == ACS
    assert root.xpath("//saml:Audience/text()", namespaces=ns) == [ENTITY]
    assert root.xpath("//saml:Attribute[@Name='groups']/saml:AttributeValue/text()", namespaces=ns) \
        == ["readers", "writers"]


def test_an_sp_none_of_our_code_wrote_accepts_the_response(app, idp):
    xml, _ = posted(sign_in(idp))
    valid, error, response = onelogin_accepts(app, xml)
    assert valid, error
    assert response.get_nameid() == "alice@example.com"
    assert response.get_attributes()["groups"] == ["readers", "writers"]


@pytest.mark.parametrize("mutation", ["unsigned", "other-key", "expired", "not-yet-valid", "wrong-audience",
                                      "wrong-recipient", "wrong-destination", "wrong-issuer",
                                      "wrong-in-response-to", "xsw-assertion-before", "xsw-assertion-after",
                                      "xsw-extensions", "xsw-object", "doctype-xxe", "billion-laughs"])
def test_the_independent_sp_refuses_each_tampered_response(app, idp, mutation):
    assert idp.post("/_control/tamper", json={"mutation": mutation}).status_code == 201
    answer = sign_in(idp)
    xml, _ = posted(answer)
    valid, error, _ = onelogin_accepts(app, xml)
    assert not valid, f"python3-saml accepted a Response tampered with {mutation}"
    assert idp.get("/_control/tamper").json["armed"] == []  # used once


def test_the_nameid_comment_keeps_the_signature_valid(app, idp):
    """Exclusive C14N drops comments: the tampered NameID still verifies, so only the SP's
    reading of the NameID can tell."""
    idp.post("/_control/tamper", json={"mutation": "nameid-comment"})
    xml, _ = posted(sign_in(idp))
    assert "<!---->" in xml
    valid, error, response = onelogin_accepts(app, xml)
    assert valid, error  # python3-saml reads the whole text: the genuine user, not a shorter name
    assert response.get_nameid() == "alice@example.com"


def test_replay_reuses_the_previous_assertion_id(idp):
    first, _ = posted(sign_in(idp))
    idp.post("/_control/tamper", json={"mutation": "replay"})
    second, _ = posted(idp.get(f"/saml/sso/redirect?{redirect_query(authn_request('_req2'))}"))  # IdP session
    ids = [parse(x).find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion").get("ID") for x in (first, second)]
    assert ids[0] == ids[1] and parse(second).get("InResponseTo") == "_req2"


def test_unsolicited_has_no_in_response_to_and_no_relay_state(idp):
    idp.post("/_control/tamper", json={"mutation": "unsolicited"})
    xml, relay_state = posted(sign_in(idp))
    assert parse(xml).get("InResponseTo") is None and relay_state is None


def test_idp_initiated_login(idp):
    page = idp.get("/saml/idp-initiated", query_string={"sp": ENTITY, "acs": ACS})
    action = re.search(r'action="([^"]+)"', page.get_data(as_text=True)).group(1)
    xml, relay_state = posted(idp.post(action, data={"username": "bob", "password": "builder"}))
    assert parse(xml).get("InResponseTo") is None


def test_unknown_mutations_and_specs_are_refused(idp):
    answer = idp.post("/_control/tamper", json={"mutation": "nonsense"})
    assert answer.status_code == 400 and "xsw-object" in answer.json["error_description"]
    assert idp.post("/_control/tamper", json={"mutation": "expired", "times": 0}).status_code == 400
    idp.post("/_control/tamper", json={"mutation": "expired", "times": 3})
    assert idp.delete("/_control/faults").json["cleared"] == 1
    assert idp.get("/_control/tamper").json["armed"] == []


@pytest.mark.parametrize("spoilt, refusal", [  # built when the test runs: an IssueInstant of collection time ages
    ({"issuer": "https://stranger.invalid/sp"}, "not a service provider this IdP knows"),
    ({"acs": "https://attacker.invalid/acs"}, "is not an assertion consumer registered"),
    ({"destination": "https://elsewhere.invalid/sso"}, "is addressed to"),
    ({"instant": "2001-01-01T00:00:00Z"}, "too old"),
    ({"name_id_format": "urn:example:made-up"}, "is not one this IdP issues"),
])
def test_authn_requests_are_checked_before_any_password(idp, spoilt, refusal):
    page = idp.get(f"/saml/sso/redirect?{redirect_query(authn_request(**spoilt))}")
    assert page.status_code == 400 and refusal in page.get_data(as_text=True)


def test_a_request_from_the_future_is_refused(idp):
    page = idp.get(f"/saml/sso/redirect?{redirect_query(authn_request(instant=saml_now(3600)))}")
    assert page.status_code == 400 and b"in the future" in page.data


def test_post_binding_and_name_id_formats(idp):
    persistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    request = authn_request(name_id_format=persistent, destination=f"{IDP}/saml/sso/post")
    page = idp.post("/saml/sso/post", data={"SAMLRequest": base64.b64encode(str(request).encode()).decode()})
    action = re.search(r'action="([^"]+)"', page.get_data(as_text=True)).group(1)
    xml, _ = posted(idp.post(action, data={"username": "alice", "password": "wonderland"}))
    name_id = parse(xml).find(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID")
    assert name_id.get("Format") == persistent and "alice" not in name_id.text


def test_a_dtd_in_the_request_is_refused(idp):
    body = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + str(authn_request())
    page = idp.post("/saml/sso/post", data={"SAMLRequest": base64.b64encode(body.encode()).decode()})
    assert page.status_code == 400 and b"not a readable AuthnRequest" in page.data


def test_the_idp_session_skips_the_password_and_logout_ends_it(idp):
    posted(sign_in(idp))
    again = idp.get(f"/saml/sso/redirect?{redirect_query(authn_request('_req3'))}")
    assert parse(posted(again)[0]).get("InResponseTo") == "_req3"
    idp.get("/logout")
    assert b"Sign in" in idp.get(f"/saml/sso/redirect?{redirect_query(authn_request('_req4'))}").data


def test_metadata_names_both_bindings_and_the_signing_certificate(app, idp):
    root = etree.fromstring(idp.get("/saml/metadata").data)
    md = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}
    bindings = root.xpath("//md:SingleSignOnService/@Binding", namespaces=md)
    assert {b.rsplit(":", 1)[1] for b in bindings} == {"HTTP-Redirect", "HTTP-POST"}
    assert root.xpath("//ds:X509Certificate/text()", namespaces=md)[0].strip() \
        == app.extensions["saml_idp"].signer.cert_base64
