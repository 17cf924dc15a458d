"""The MIC's SAML-WRAP connector against the mock SAML IdP's WRAP endpoint, over the wire:
what it keeps of a login (the WRAP token, its lifetime on the MIC's clock), and what the
scenarios cannot reach (no login under way, a misconfigured service)."""
import httpx2
import pytest

from mic_reference.config import AuthService, Provider
from mic_reference.connectors import saml_wrap
from mic_reference.connectors.capabilities import ConnectorError, LoginContext, serving
from mock_idps import saml as saml_idp
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet

START = 1_900_000_000
SCOPE = "kinvey-mobile-identity-connect"


@pytest.fixture(scope="module")
def idp():
    fleet = Fleet()
    fleet.add("saml-idp", lambda urls: saml_idp.create_app(clock=VirtualClock(start=START, frozen=True),
                                                           test_mode=True, variables={"MIC": "http://mic.test"}))
    with fleet:
        yield fleet.urls["saml-idp"], fleet.app("saml-idp").extensions["saml_idp"].signer


@pytest.fixture(autouse=True)
def no_faults(idp):
    yield
    httpx2.delete(f"{idp[0]}/_control/faults")


def connector(idp, **options):
    base, signer = idp
    options = {"wrapScope": SCOPE, "idpCertificate": signer.cert_base64, "idpEntityId": f"{base}/saml/metadata",
               "timeout": 1, **options}
    service = AuthService(id="wrap", owner="kid_test", scope="environment", name="wrap",
                          redirect_uris=("http://app/cb",), allowed_attributes=("id", "audience"),
                          provider=Provider("saml-wrap", f"{base}/wrap/access_token", options))
    return saml_wrap.build(service, httpx2.HTTPTransport())


def at(now, remembered=None):
    """The login under way at the MIC's ``now``, with a memory of one-time values."""
    remembered = set() if remembered is None else remembered

    def first_use(key, until):
        fresh = key not in remembered
        remembered.add(key)
        return fresh
    return serving(LoginContext(app_key="kid_test", app_id="app", app_name="App", environment="Development",
                                request_id="r-1", now=now, first_use=first_use))


def logged_requests(idp):
    return httpx2.get(f"{idp[0]}/_control/requests", params={"path": "/wrap/access_token"}).json()["requests"]


def test_the_identity_is_the_assertions_and_the_upstream_token_is_the_wrap_token(idp):
    with at(START):
        identity = connector(idp).password_login("alice", "wonderland")
    assert identity.user_id == "alice@example.com"
    assert identity.attributes["groups"] == ["readers", "writers"] and identity.attributes["name"] == "Alice Liddell"
    token = identity.upstream_token
    assert token["token_type"] == "WRAP" and token["expires_in"] == 3600
    assert token["access_token"].startswith("<?xml") and "alice@example.com" in token["access_token"]


def test_the_token_lives_no_longer_than_the_assertion_on_the_mics_clock(idp):
    with at(START + 1000):  # the MIC's clock is ahead of the IdP's: 2600 s of the assertion are left
        identity = connector(idp).password_login("alice", "wonderland")
    assert identity.upstream_token["expires_in"] == 2600


def test_without_a_login_under_way_there_is_no_clock_to_check_the_assertion_on(idp):
    with pytest.raises(ConnectorError) as refused:
        connector(idp).password_login("alice", "wonderland")
    assert refused.value.error == "server_error"


def test_no_password_is_refused_without_asking_the_endpoint(idp):
    httpx2.delete(f"{idp[0]}/_control/requests")
    with at(START), pytest.raises(ConnectorError) as refused:
        connector(idp).password_login("alice", "")
    assert refused.value.error == "invalid_grant" and logged_requests(idp) == []


def test_a_scope_the_endpoint_does_not_issue_for_is_the_mics_misconfiguration(idp):
    with at(START), pytest.raises(ConnectorError) as refused:
        connector(idp, wrapScope="https://stranger.invalid/rp").password_login("alice", "wonderland")
    assert refused.value.error == "server_error" and "not a scope" in refused.value.debug


def test_a_certificate_that_is_not_one_fails_before_any_password_leaves(idp):
    httpx2.delete(f"{idp[0]}/_control/requests")
    with at(START), pytest.raises(ConnectorError) as refused:
        connector(idp, idpCertificate="not a certificate").password_login("alice", "wonderland")
    assert refused.value.error == "server_error" and "idpCertificate" in refused.value.description
    assert logged_requests(idp) == []


def test_a_token_that_is_not_xml_is_refused_as_an_assertion(idp):
    httpx2.post(f"{idp[0]}/_control/faults", json={
        "path": "/wrap/access_token", "status": 200, "body": "wrap_access_token=not-xml", "times": 1,
        "headers": {"Content-Type": "application/x-www-form-urlencoded"}})
    with at(START), pytest.raises(ConnectorError) as refused:
        connector(idp).password_login("alice", "wonderland")
    assert (refused.value.error, refused.value.description) \
        == ("access_denied", "the WRAP token is not well-formed XML")


def test_the_request_is_wraps_form(idp):
    httpx2.delete(f"{idp[0]}/_control/requests")
    with at(START):
        connector(idp).password_login("bob", "builder")
    [sent] = logged_requests(idp)
    assert sent["method"] == "POST" and sent["body"]["wrap_name"] == "bob" and sent["body"]["wrap_scope"] == SCOPE
    assert sent["body"]["wrap_password"].startswith("***")  # masked in the log, sent all the same
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("old, new, message", [
    ("                    wrapScope: kinvey-mobile-identity-connect\n", "", "wrapScope"),
    ("remoteService: ${SAML_IDP:-http://saml-idp.invalid}/wrap/access_token",
     "remoteService: ldap://saml-idp.invalid/wrap", "remoteService"),
    ("                    timeout: 2\n", "                    timeout: 0\n", "timeout"),
])
def test_a_wrap_service_misconfigured_is_named_with_its_line(demo_refusal, old, new, message):
    refused = demo_refusal(old, new)
    assert message in str(refused) and refused.line is not None
