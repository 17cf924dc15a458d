"""MIC's own login: the SDKs' temp_login_uri flow and the login page, for password-checking services."""
from urllib.parse import parse_qs, urlsplit

import pytest

SERVICE = "kid_demo.oauth2-password"


def ask(fleet, http, as_json=False, version="/v3", **overrides):
    target = fleet.target
    params = {"client_id": SERVICE, "redirect_uri": target.redirect_uri, "response_type": "code", **overrides}
    if as_json:
        return http.post(f"{target.mic}{version}/oauth/auth?scope=openid", json=params,
                         auth=(SERVICE, target.app_secret))
    return http.post(f"{target.mic}{version}/oauth/auth", data=params)


def post_credentials(fleet, http, uri, password="wonderland", **overrides):
    target = fleet.target
    return http.post(uri, data={"client_id": SERVICE, "redirect_uri": target.redirect_uri, "response_type": "code",
                                "username": "alice", "password": password, "scope": "openid", **overrides})


def query(response):
    return parse_qs(urlsplit(response.headers["location"]).query)


@pytest.mark.parametrize("as_json, version", [(False, ""), (False, "/v2"), (True, "/v3")])
def test_temp_login_uri_then_exactly_302_with_a_code(fleet, http, as_json, version):
    answer = ask(fleet, http, as_json=as_json, version=version)
    assert answer.status_code == 200, answer.text
    uri = answer.json()["temp_login_uri"]
    assert uri.startswith(fleet.target.mic + "/oauth/authenticate/") and len(uri.rsplit("/", 1)[1]) == 32
    landing = post_credentials(fleet, http, uri)
    assert landing.status_code == 302
    assert landing.headers["location"].startswith(fleet.target.redirect_uri)
    code = query(landing)["code"][0]
    tokens = http.post(f"{fleet.target.mic}/oauth/token", auth=(SERVICE, fleet.target.app_secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": fleet.target.redirect_uri})
    assert tokens.status_code == 200 and tokens.json()["refresh_token"] == "null"


def test_bad_credentials_come_back_as_an_error_redirect(fleet, http):
    uri = ask(fleet, http, state="s-1").json()["temp_login_uri"]
    landing = post_credentials(fleet, http, uri, password="nope")
    assert landing.status_code == 302
    assert query(landing)["error"] == ["invalid_grant"] and query(landing)["state"] == ["s-1"]
    assert "nope" not in landing.headers["location"]


def test_a_temp_login_uri_serves_once(fleet, http):
    uri = ask(fleet, http).json()["temp_login_uri"]
    assert post_credentials(fleet, http, uri).status_code == 302
    again = post_credentials(fleet, http, uri)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


def test_the_posted_redirect_uri_must_be_the_one_the_login_began_with(fleet, http):
    uri = ask(fleet, http).json()["temp_login_uri"]
    response = post_credentials(fleet, http, uri, redirect_uri="http://evil.test/cb")
    assert response.status_code == 400 and "location" not in response.headers


@pytest.mark.parametrize("overrides, error", [
    ({"redirect_uri": "http://evil.test/cb"}, "invalid_request"),
    ({"client_id": "kid_nobody"}, "invalid_client"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
def test_bad_temp_login_requests_get_json_errors_not_redirects(fleet, http, overrides, error):
    response = ask(fleet, http, **overrides)
    assert response.status_code in (400, 401) and "location" not in response.headers
    assert response.json()["error"] == error


def test_wrong_basic_credentials_on_the_json_form_are_refused(fleet, http):
    response = http.post(f"{fleet.target.mic}/v3/oauth/auth", auth=(SERVICE, "wrong-secret"), json={
        "client_id": SERVICE, "redirect_uri": fleet.target.redirect_uri, "response_type": "code"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_a_redirect_login_service_has_no_temp_login(fleet, http):
    response = ask(fleet, http, client_id="kid_demo")
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"
