"""The MIC's SAML assertion consumer, beyond what the scenarios drive: a Response posted
twice, an IdP-initiated one, garbage, and a service whose certificate is not one."""
import base64
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest

import mic_reference
from mic_reference.connectors.capabilities import ConnectorError, SamlLogin


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
