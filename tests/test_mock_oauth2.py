"""The mock OAuth2 provider is strict where lax mocks let brokers get away with bugs."""
import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from mock_idps import oauth2 as oauth2_idp
from plumbing.clock import VirtualClock
from plumbing.yamlfile import YamlError

REDIRECT = "http://mic.test/oauth2/redirect"
CLIENT = ("mic-demo", "mic-demo-secret")


@pytest.fixture
def clock():
    return VirtualClock(frozen=True)


@pytest.fixture
def idp(clock):
    return oauth2_idp.create_app(clock=clock, variables={"MIC": "http://mic.test"}).test_client()


def authorize(idp, password="wonderland", **extra):
    query = {"client_id": "mic-demo", "response_type": "code", "redirect_uri": REDIRECT, "state": "s1", **extra}
    return idp.post("/oauth/authorize", query_string=query, data={"username": "alice", "password": password})


def code_of(response):
    assert response.status_code == 302, response.get_data(as_text=True)
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def redeem(idp, code, **extra):
    return idp.post("/oauth/token", auth=CLIENT,
                    data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra})


def test_login_page_then_code_then_tokens_then_user(idp):
    assert b"Sign in" in idp.get("/oauth/authorize", query_string={
        "client_id": "mic-demo", "response_type": "code", "redirect_uri": REDIRECT}).data
    response = authorize(idp)
    assert parse_qs(urlsplit(response.headers["Location"]).query)["state"] == ["s1"]
    tokens = redeem(idp, code_of(response)).json
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    me = idp.get("/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json["id"] == "u-alice" and me.json["email"] == "alice@example.com"


def test_wrong_password_shows_the_page_again(idp):
    response = authorize(idp, password="nope")
    assert response.status_code == 401 and b"not right" in response.data and b"nope" not in response.data


def test_unregistered_redirect_uri_is_never_redirected_to(idp):
    response = idp.get("/oauth/authorize", query_string={
        "client_id": "mic-demo", "response_type": "code", "redirect_uri": REDIRECT + "/evil"})
    assert response.status_code == 400 and "Location" not in response.headers


def test_a_code_works_once(idp):
    code = code_of(authorize(idp))
    assert redeem(idp, code).status_code == 200
    assert redeem(idp, code).json["error"] == "invalid_grant"


def test_a_code_expires_on_the_clock(idp, clock):
    code = code_of(authorize(idp))
    clock.advance(61)
    assert redeem(idp, code).json["error"] == "invalid_grant"


def test_pkce_s256_is_verified(idp):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = code_of(authorize(idp, code_challenge=challenge, code_challenge_method="S256"))
    assert redeem(idp, code, code_verifier="w" * 50).json["error"] == "invalid_grant"
    code = code_of(authorize(idp, code_challenge=challenge, code_challenge_method="S256"))
    assert redeem(idp, code, code_verifier=verifier).status_code == 200


def test_password_grant_refuses_bad_credentials_as_invalid_grant(idp):
    response = idp.post("/oauth/token", auth=CLIENT,
                        data={"grant_type": "password", "username": "alice", "password": "nope"})
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_refresh_rotates_and_a_used_or_bogus_refresh_token_is_refused(idp):
    tokens = idp.post("/oauth/token", auth=CLIENT, data={
        "grant_type": "password", "username": "alice", "password": "wonderland"}).json
    refreshed = idp.post("/oauth/token", auth=CLIENT,
                         data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json["refresh_token"] != tokens["refresh_token"]
    for stale in (tokens["refresh_token"], "bogus"):
        again = idp.post("/oauth/token", auth=CLIENT, data={"grant_type": "refresh_token", "refresh_token": stale})
        assert again.json["error"] == "invalid_grant"


def test_access_tokens_expire_on_the_clock(idp, clock):
    token = idp.post("/oauth/token", auth=CLIENT, data={
        "grant_type": "password", "username": "alice", "password": "wonderland"}).json["access_token"]
    clock.advance(3600)
    assert idp.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_broken_fixture_names_file_and_line(tmp_path):
    fixture = tmp_path / "users.yaml"
    fixture.write_text("clients: []\nusers:\n  - username: eve\n    pasword: x\n    id: e\n")
    with pytest.raises(YamlError) as raised:
        oauth2_idp.create_app(fixture)
    assert raised.value.line == 4 and "unknown key 'pasword'" in raised.value.message


def test_the_idp_session_cookie_skips_the_login_page_until_it_expires_or_prompt_login(idp, clock):
    assert "idp_session" in authorize(idp).headers["Set-Cookie"]
    query = {"client_id": "mic-demo", "response_type": "code", "redirect_uri": REDIRECT}
    assert code_of(idp.get("/oauth/authorize", query_string=query))  # no login page: the session logs in
    assert idp.get("/oauth/authorize", query_string={**query, "prompt": "login"}).status_code == 200
    clock.advance(28800)
    assert idp.get("/oauth/authorize", query_string=query).status_code == 200  # the session has expired


def test_logging_out_of_the_idp_ends_its_session(idp):
    authorize(idp)
    idp.post("/logout")
    query = {"client_id": "mic-demo", "response_type": "code", "redirect_uri": REDIRECT}
    assert idp.get("/oauth/authorize", query_string=query).status_code == 200
