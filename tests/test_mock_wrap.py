"""The mock SAML IdP's OAuth WRAP v0.9 endpoint, over HTTP: a password in, a signed SAML
assertion out (its signature checked with the xmlsec1 binary, not the binding that made
it), WRAP's refusals, and the tamper mutations that apply to a bare assertion."""
import calendar
import time
from urllib.parse import parse_qs

import httpx2
import pytest
from saml2.sigver import CryptoBackendXmlSec1, get_xmlsec_binary

from mock_idps import saml as saml_idp
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet
from plumbing.xmldsig import parse

MIC = "http://mic.test"
V1_SCOPE = "kinvey-mobile-identity-connect"
V2_SCOPE = f"{MIC}/kinvey-mobile-identity-connect"
START = 1_900_000_000
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion", "ds": "http://www.w3.org/2000/09/xmldsig#"}
ASSERTION_NODE = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"


@pytest.fixture(scope="module")
def served():
    clock = VirtualClock(start=START, frozen=True)
    fleet = Fleet()
    fleet.add("saml-idp", lambda urls: saml_idp.create_app(clock=clock, test_mode=True, variables={"MIC": MIC}))
    with fleet:
        yield fleet.urls["saml-idp"], fleet.app("saml-idp").extensions["saml_idp"]


@pytest.fixture
def idp(served):
    base, _ = served
    with httpx2.Client(base_url=base) as client:
        yield client
        client.delete("/_control/faults")


def ask(idp, **fields):
    form = {"wrap_name": "alice", "wrap_password": "wonderland", "wrap_scope": V1_SCOPE, **fields}
    return idp.post("/wrap/access_token", data={k: v for k, v in form.items() if v is not None})


def answered(response):
    assert response.headers["content-type"] == "application/x-www-form-urlencoded"
    return {name: values[0] for name, values in parse_qs(response.text, keep_blank_values=True).items()}


def token_of(response):
    assert response.status_code == 200, response.text
    return answered(response)["wrap_access_token"]


def verifies(token, cert_file):
    """The xmlsec1 binary's verdict on the bare assertion's signature."""
    root = parse(token)
    try:
        return CryptoBackendXmlSec1(get_xmlsec_binary()).validate_signature(
            token.encode(), cert_file, "pem", ASSERTION_NODE, root.get("ID"))
    except Exception:  # pysaml2 raises when xmlsec1 says no
        return False


def instant(root, xpath):
    return calendar.timegm(time.strptime(root.xpath(xpath, namespaces=NS)[0], "%Y-%m-%dT%H:%M:%SZ"))


def test_a_password_buys_a_signed_assertion_for_the_scope(served, idp):
    base, state = served
    response = ask(idp)
    fields = answered(response)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert set(fields) == {"wrap_access_token", "wrap_access_token_expires_in"}  # no refresh token
    token = fields["wrap_access_token"]
    root = parse(token)
    assert root.tag == "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"
    assert verifies(token, state.signer.cert_file)
    assert root.xpath("ds:Signature/ds:SignedInfo/ds:SignatureMethod/@Algorithm", namespaces=NS) \
        == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert root.xpath("saml:Issuer/text()", namespaces=NS) == [f"{base}/saml/metadata"]
    assert root.xpath("saml:Conditions/saml:AudienceRestriction/saml:Audience/text()", namespaces=NS) == [V1_SCOPE]
    assert root.xpath("saml:Subject/saml:NameID/text()", namespaces=NS) == ["alice@example.com"]
    assert root.xpath("saml:AttributeStatement/saml:Attribute[@Name='groups']/saml:AttributeValue/text()",
                      namespaces=NS) == ["readers", "writers"]
    data = root.xpath("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", namespaces=NS)[0]
    assert data.get("Recipient") is None and data.get("InResponseTo") is None  # no request, no consumer


def test_expires_in_is_the_assertions_window_on_the_idps_clock(idp):
    fields = answered(ask(idp))
    root = parse(fields["wrap_access_token"])
    assert fields["wrap_access_token_expires_in"] == "3600"
    assert instant(root, "@IssueInstant") == START
    assert instant(root, "saml:Conditions/@NotBefore") == START
    assert instant(root, "saml:Conditions/@NotOnOrAfter") == START + 3600


def test_the_scope_is_the_audience_and_must_be_one_the_idp_knows(idp):
    root = parse(token_of(ask(idp, wrap_scope=V2_SCOPE)))
    assert root.xpath("//saml:Audience/text()", namespaces=NS) == [V2_SCOPE]
    unknown = ask(idp, wrap_scope="https://stranger.invalid/rp")
    assert unknown.status_code == 400 and "not a scope" in answered(unknown)["error_description"]
    assert "wrap_access_token" not in answered(unknown)


@pytest.mark.parametrize("name, password", [("alice", "not-her-password"), ("nobody", "wonderland"),
                                            ("alice", "wonderland" * 1000), ("ålice\u202e", "wonderland"),
                                            ("alice", "wönderländ")])
def test_credentials_that_do_not_verify_are_401_www_authenticate_wrap(idp, name, password):
    response = ask(idp, wrap_name=name, wrap_password=password)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "WRAP"
    assert "wrap_access_token" not in answered(response)


def test_a_user_who_needs_a_second_factor_gets_no_token_for_a_password(idp):
    response = ask(idp, wrap_name="carol", wrap_password="lookingglass")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "WRAP"
    assert "second factor" in answered(response)["error_description"]


@pytest.mark.parametrize("fields, refusal", [
    ({"wrap_name": None}, "wrap_name is required"),
    ({"wrap_password": ""}, "wrap_password is required"),
    ({"wrap_scope": None}, "wrap_scope is required"),
])
def test_a_request_missing_a_parameter_is_400(idp, fields, refusal):
    response = ask(idp, **fields)
    assert response.status_code == 400 and answered(response)["error_description"] == refusal


def test_the_request_must_be_a_form_with_each_parameter_once(idp):
    as_json = idp.post("/wrap/access_token", json={"wrap_name": "alice", "wrap_password": "wonderland",
                                                   "wrap_scope": V1_SCOPE})
    assert as_json.status_code == 400 and "must be a form" in answered(as_json)["error_description"]
    twice = idp.post("/wrap/access_token", content=f"wrap_name=bob&wrap_name=alice&wrap_password=wonderland"
                     f"&wrap_scope={V1_SCOPE}", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert twice.status_code == 400 and "more than once" in answered(twice)["error_description"]


def test_names_are_case_sensitive_and_unknown_parameters_ignored(idp):
    shouting = idp.post("/wrap/access_token", data={"WRAP_NAME": "alice", "wrap_password": "wonderland",
                                                    "wrap_scope": V1_SCOPE})
    assert shouting.status_code == 400
    assert token_of(ask(idp, Audience="crm.example.com", wrap_client_state="x"))


def test_the_access_token_url_takes_only_post(idp):
    assert idp.get("/wrap/access_token", params={"wrap_name": "alice", "wrap_password": "wonderland"}).status_code \
        == 405


def test_the_request_log_masks_the_password_and_the_token(idp):
    idp.delete("/_control/requests")
    ask(idp)
    logged = idp.get("/_control/requests", params={"path": "/wrap/access_token"}).json()["requests"]
    assert logged and "wonderland" not in str(logged)
    assert logged[0]["body"]["wrap_password"].startswith("***")


@pytest.mark.parametrize("mutation, check", [
    ("unsigned", lambda root, token, state: root.find("ds:Signature", NS) is None),
    ("other-key", lambda root, token, state: not verifies(token, state.signer.cert_file)
     and verifies(token, state.other_signer.cert_file)),
    ("expired", lambda root, token, state: instant(root, "saml:Conditions/@NotOnOrAfter") < START),
    ("not-yet-valid", lambda root, token, state: instant(root, "saml:Conditions/@NotBefore") > START),
    ("wrong-audience", lambda root, token, state: root.xpath("//saml:Audience/text()", namespaces=NS)
     == ["https://attacker.invalid/sp"]),
    ("wrong-issuer", lambda root, token, state: root.xpath("saml:Issuer/text()", namespaces=NS)
     == ["https://attacker.invalid/idp"]),
    ("xsw-object", lambda root, token, state: root.xpath("saml:Subject/saml:NameID/text()", namespaces=NS)
     == ["admin@example.com"] and len(root.xpath("ds:Signature/ds:Object/saml:Assertion", namespaces=NS)) == 1),
    ("nameid-comment", lambda root, token, state: "<!---->" in token and verifies(token, state.signer.cert_file)),
])
def test_each_mutation_that_applies_spoils_the_next_token(served, idp, mutation, check):
    _, state = served
    assert idp.post("/_control/tamper", json={"mutation": mutation}).status_code == 201
    token = token_of(ask(idp))
    assert check(parse(token), token, state)
    assert idp.get("/_control/tamper").json()["armed"] == []  # used once
    assert verifies(token_of(ask(idp)), state.signer.cert_file)  # the next one is genuine


@pytest.mark.parametrize("mutation, declared", [("doctype-xxe", "SYSTEM"), ("billion-laughs", "lol9")])
def test_a_doctype_before_the_assertion_names_it(idp, mutation, declared):
    idp.post("/_control/tamper", json={"mutation": mutation})
    token = token_of(ask(idp))
    assert token.splitlines()[1].startswith("<!DOCTYPE ns0:Assertion [") and declared in token


def test_replay_sends_the_previous_assertion_id_again(idp):
    first = parse(token_of(ask(idp))).get("ID")
    idp.post("/_control/tamper", json={"mutation": "replay"})
    assert parse(token_of(ask(idp))).get("ID") == first


def test_a_mutation_that_needs_a_response_is_refused_for_a_token(idp):
    listed = idp.get("/_control/tamper").json()
    assert "unsolicited" in listed["mutations"] and "unsolicited" not in listed["wrap_mutations"]
    idp.post("/_control/tamper", json={"mutation": "unsolicited"})
    response = ask(idp)
    assert response.status_code == 409 and "needs a SAML Response" in answered(response)["error_description"]
    assert token_of(ask(idp))  # it was used up
