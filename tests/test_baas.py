"""The BaaS stand-in: sessions from MIC tokens, and the 401 that makes the SDKs refresh."""
import base64
import httpx2
import pytest

INVALID = {"error": "InvalidCredentials",
           "description": "Invalid credentials. Please retry your request with correct credentials"}


def kinvey_login(fleet, http, tokens, secret=None, path="/login"):
    target = fleet.target
    return http.post(f"{target.mic}/user/{target.app_key}{path}" if path else f"{target.mic}/user/{target.app_key}",
                     auth=(target.app_key, secret or target.app_secret),
                     json={"_socialIdentity": {"kinveyAuth": {**tokens, "client_id": target.app_key,
                                                              "protocol": "http", "identity": "kinveyAuth"}}})


def kinvey(authtoken):
    return {"Authorization": f"Kinvey {authtoken}"}


def test_first_login_creates_the_user_with_the_allowed_attributes(fleet, http, code_tokens):
    tokens = code_tokens()
    first = kinvey_login(fleet, http, tokens)
    assert first.status_code == 200, first.text
    user = first.json()
    auth = user["_socialIdentity"]["kinveyAuth"]
    assert auth["id"] == "u-alice" and auth["audience"] == fleet.target.app_key
    assert auth["email"] == "alice@example.com" and auth["name"] == "Alice Liddell"
    assert "username" not in auth  # returned by the IdP, but not an allowed attribute
    assert user["_kmd"]["authtoken"] and user["_acl"]["creator"] == user["_id"]
    again = kinvey_login(fleet, http, tokens).json()
    assert again["_id"] == user["_id"] and again["_kmd"]["authtoken"] != user["_kmd"]["authtoken"]


@pytest.mark.parametrize("secret, tokens", [("wrong-secret", None), (None, {"access_token": "bogus"})])
def test_bad_app_credentials_or_mic_token_are_invalid_credentials(fleet, http, code_tokens, secret, tokens):
    response = kinvey_login(fleet, http, tokens or code_tokens(), secret=secret)
    assert response.status_code == 401 and {k: response.json()[k] for k in INVALID} == INVALID


def test_a_body_without_kinvey_auth_is_refused_clearly(fleet, http, code_tokens):
    target = fleet.target
    response = http.post(f"{target.mic}/user/{target.app_key}/login", auth=(target.app_key, target.app_secret),
                         json={"username": "alice"})
    assert response.status_code == 400 and response.json()["error"] == "IncompleteRequestBody"


def test_session_lives_while_its_mic_token_does_then_the_sdk_refresh_dance_works(fleet, http, code_tokens):
    target = fleet.target
    tokens = code_tokens()
    authtoken = kinvey_login(fleet, http, tokens).json()["_kmd"]["authtoken"]
    assert http.get(f"{target.mic}/appdata/{target.app_key}/books", headers=kinvey(authtoken)).json() == []
    httpx2.post(f"{fleet.urls['mic']}/_control/clock", json={"advance": 3600})
    expired = http.get(f"{target.mic}/appdata/{target.app_key}/books", headers=kinvey(authtoken))
    assert expired.status_code == 401 and {k: expired.json()[k] for k in INVALID} == INVALID
    refreshed = http.post(f"{target.mic}/oauth/token", auth=(target.app_key, target.app_secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "redirect_uri": "undefined"}).json()
    fresh = kinvey_login(fleet, http, refreshed).json()["_kmd"]["authtoken"]
    assert http.get(f"{target.mic}/appdata/{target.app_key}/books", headers=kinvey(fresh)).status_code == 200


def test_logout_ends_the_session(fleet, http, code_tokens):
    target = fleet.target
    authtoken = kinvey_login(fleet, http, code_tokens()).json()["_kmd"]["authtoken"]
    assert http.get(f"{target.mic}/user/{target.app_key}/_me", headers=kinvey(authtoken)).status_code == 200
    assert http.post(f"{target.mic}/user/{target.app_key}/_logout", headers=kinvey(authtoken)).status_code == 204
    assert http.get(f"{target.mic}/user/{target.app_key}/_me", headers=kinvey(authtoken)).status_code == 401


def test_a_revoked_mic_token_kills_its_sessions(fleet, http, code_tokens):
    target = fleet.target
    tokens = code_tokens()
    authtoken = kinvey_login(fleet, http, tokens).json()["_kmd"]["authtoken"]
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    http.post(f"{target.mic}/oauth/token", auth=(target.app_key, target.app_secret), data=refresh)
    http.post(f"{target.mic}/oauth/token", auth=(target.app_key, target.app_secret), data=refresh)  # reuse
    assert http.get(f"{target.mic}/user/{target.app_key}/_me", headers=kinvey(authtoken)).status_code == 401


def test_data_link_headers_carry_the_upstream_token_base64_encoded(fleet, http, code_tokens):
    target = fleet.target
    authtoken = kinvey_login(fleet, http, code_tokens()).json()["_kmd"]["authtoken"]
    headers = http.get(f"{target.mic}/appdata/{target.app_key}/datalink-echo", headers=kinvey(authtoken)).json()
    assert headers["headers"]["X-User-Email"] == "alice@example.com"
    upstream_token = base64.b64decode(headers["headers"]["X-Kinvey-Auth"]).decode()
    me = httpx2.get(f"{fleet.urls['oauth2-idp']}/api/me", headers={"Authorization": f"Bearer {upstream_token}"})
    assert me.status_code == 200 and me.json()["id"] == "u-alice"


def test_signup_creates_once(fleet, http, code_tokens):
    tokens = code_tokens()
    created = kinvey_login(fleet, http, tokens, path="")
    assert created.status_code == 201
    assert kinvey_login(fleet, http, tokens, path="").json()["error"] == "UserAlreadyExists"


def test_no_session_no_data(fleet, http, code_tokens):
    target = fleet.target
    for headers in ({}, kinvey("made-up"), {"Authorization": "Basic eDp5"}):
        response = http.get(f"{target.mic}/appdata/{target.app_key}/books", headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "InvalidCredentials"


def test_cross_app_sso_only_for_environments_that_use_the_organization_service(fleet, http, code_tokens):
    target = fleet.target
    sso_tokens = code_tokens(f"{target.app_key}.org-sso")
    own_tokens = code_tokens()  # through kid_demo's environment-scoped service
    body = lambda tokens: {"_socialIdentity": {"kinveyAuth": tokens}}  # noqa: E731
    outcomes = {
        (app, secret, which): http.post(f"{target.mic}/user/{app}/login", auth=(app, secret),
                                        json=body(tokens)).status_code
        for app, secret in (("kid_second", "second-app-secret"), ("kid_own_login", "own-login-app-secret"),
                            ("kid_outsider", "outsider-app-secret"))
        for which, tokens in (("org-sso", sso_tokens), ("own", own_tokens))
    }
    assert outcomes == {
        ("kid_second", "second-app-secret", "org-sso"): 200,   # same organization, uses org-sso
        ("kid_second", "second-app-secret", "own"): 401,       # an environment-scoped service is never shared
        ("kid_own_login", "own-login-app-secret", "org-sso"): 401,  # same organization, does not use it
        ("kid_own_login", "own-login-app-secret", "own"): 401,
        ("kid_outsider", "outsider-app-secret", "org-sso"): 401,    # another organization
        ("kid_outsider", "outsider-app-secret", "own"): 401,
    }
