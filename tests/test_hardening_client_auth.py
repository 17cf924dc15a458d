"""Client authentication details: one method, one client, parameters once, PKCE plain only when allowed."""
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from mic_reference import config as mic_config
from mic_reference import create_app
from plumbing.clock import VirtualClock

SERVICE = "kid_demo.oauth2-password"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CHALLENGE = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def password_grant(fleet, http, auth, **body):
    return http.post(f"{fleet.target.mic}/v3/oauth/token", auth=auth, data={
        "grant_type": "password", "username": "alice", "password": "wonderland", "client_id": SERVICE, **body})


def refused(response, error="invalid_request", status=400):
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and "access_token" not in response.json()


def test_one_method_and_one_client_per_token_request(fleet, http):
    secret = fleet.target.app_secret
    refused(password_grant(fleet, http, (SERVICE, secret), client_secret="wrong-secret"))
    refused(password_grant(fleet, http, (SERVICE, secret), client_secret=secret))
    refused(password_grant(fleet, http, (SERVICE, secret), client_id="kid_outsider"))
    refused(password_grant(fleet, http, (SERVICE, secret), client_id="kid_second.oauth2-password"))
    # the SDKs' form: Basic appKey:appSecret, the body naming the app's service
    assert password_grant(fleet, http, ("kid_demo", secret)).status_code == 200
    refused(password_grant(fleet, http, ("kid_demo", secret), client_id="kid_demo.no-such-service"),
            error="invalid_client", status=401)
    assert password_grant(fleet, http, None, client_secret=secret).status_code == 200


def temp_login(fleet, http, query=(), **kwargs):
    return http.post(f"{fleet.target.mic}/v3/oauth/auth", params=list(query), **kwargs)


def test_temp_login_parameters_once(fleet, http):
    redirect = fleet.target.redirect_uri
    form = [("client_id", SERVICE), ("redirect_uri", redirect), ("response_type", "code")]
    assert "temp_login_uri" in temp_login(fleet, http, data=dict(form)).json()
    for response in (temp_login(fleet, http, content=_form(form + [("client_id", "kid_demo.oauth2-code")]),
                                headers=FORM),
                     temp_login(fleet, http, content=_form(form + [("redirect_uri", "https://attacker.example/")]),
                                headers=FORM),
                     temp_login(fleet, http, query=[("redirect_uri", "https://attacker.example/")], data=dict(form)),
                     temp_login(fleet, http, query=[("client_id", SERVICE)], json=dict(form))):
        refused(response)
        assert "temp_login_uri" not in response.json()


def _form(pairs):
    return urlencode(pairs).encode()


def test_the_authorization_endpoint_refuses_a_repeated_client_or_redirect(fleet, http):
    base = [("redirect_uri", fleet.target.redirect_uri), ("response_type", "code"), ("client_id", SERVICE)]
    for extra in (("client_id", "kid_demo.oauth2-code"), ("redirect_uri", "https://attacker.example/")):
        response = http.get(f"{fleet.target.mic}/v3/oauth/auth", params=base + [extra])
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def _app(tmp_path, allow_plain: bool):
    text = mic_config.DEMO.read_text()
    if allow_plain:
        text = text.replace("- id: oauth2-password\n",
                            "- id: oauth2-password\n                allowPkcePlain: true\n", 1)
    path = tmp_path / "mic.yaml"
    path.write_text(text)
    return create_app(path, clock=VirtualClock(), test_mode=True,
                      variables={"OAUTH2_IDP": "http://127.0.0.1:9", "APP": "http://app.test"})


@pytest.mark.parametrize("method", ["plain", None])
def test_pkce_plain_is_refused_unless_the_service_allows_it(tmp_path, method):
    query = {"client_id": SERVICE, "redirect_uri": "http://app.test/callback", "response_type": "code",
             "code_challenge": CHALLENGE, **({"code_challenge_method": method} if method else {})}
    strict = _app(tmp_path, allow_plain=False).test_client().get("/v3/oauth/auth", query_string=query)
    assert strict.status_code == 302
    params = parse_qs(urlsplit(strict.headers["location"]).query)
    assert params["error"] == ["invalid_request"] and "code" not in params
    allowed = _app(tmp_path, allow_plain=True).test_client().get("/v3/oauth/auth", query_string=query)
    assert allowed.status_code == 200 and "<form" in allowed.text
    s256 = _app(tmp_path, allow_plain=False).test_client().get(
        "/v3/oauth/auth", query_string={**query, "code_challenge_method": "S256"})
    assert s256.status_code == 200


def test_the_sdks_refresh_basic_app_key_and_the_service_in_the_body(fleet, http, code_tokens):
    tokens = code_tokens("kid_demo.oauth2-token-id")
    refreshed = http.post(f"{fleet.target.mic}/oauth/token", auth=("kid_demo", fleet.target.app_secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "redirect_uri": "undefined",
        "client_id": "kid_demo.oauth2-token-id"})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
