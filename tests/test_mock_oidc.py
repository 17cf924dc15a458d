"""The mock OpenID provider: every flow it offers, checked with joserfc and authlib's own
id_token validation (not our code), and the forgeries its control surface arms."""
import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from authlib.oidc.core import CodeIDToken, HybridIDToken, ImplicitIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from mock_idps import oidc
from plumbing.clock import VirtualClock
from plumbing.yamlfile import YamlError

ISSUER = "http://localhost"
REDIRECT = "http://app.test/callback"
CLIENT = ("conformance", "conformance-secret")
VERIFIER = "v" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def clock():
    return VirtualClock(frozen=True)


@pytest.fixture
def app(clock):
    return oidc.create_app(clock=clock, test_mode=True, variables={"MIC": "http://mic.test", "APP": "http://app.test"})


@pytest.fixture
def op(app):
    return app.test_client()


def query(**extra):
    return {"client_id": "conformance", "response_type": "code", "redirect_uri": REDIRECT, "state": "s1",
            "scope": "openid profile email offline_access", "nonce": "n-1", **extra}


def log_in(op, username="alice", password="wonderland", prefix="", **extra):
    return op.post(f"{prefix}/authorize", query_string=query(**extra), data={"username": username, "password": password})


def answer(response):
    """The parameters of the redirect to the client, from its query or its fragment."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = urlsplit(response.headers["Location"])
    return {k: v[0] for k, v in (parse_qs(location.query) | parse_qs(location.fragment)).items()}


def redeem(op, code, prefix="", auth=CLIENT, **extra):
    return op.post(f"{prefix}/token", auth=auth, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra})


def verified(op, id_token, claims_type=CodeIDToken, prefix="", clock=None, **params):
    """The id_token checked as a relying party would: signature by the JWKS, iss, aud, exp, nonce, hashes."""
    keys = KeySet.import_key_set(op.get(f"{prefix}/jwks").json)
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    claims = claims_type(token.claims, token.header, {
        "iss": {"essential": True, "value": ISSUER + prefix}, "aud": {"essential": True, "value": "conformance"}},
        {"client_id": "conformance", **params})
    claims.validate(now=int(clock.now()) if clock else None)
    return claims


def test_discovery_names_every_endpoint_of_its_issuer(op):
    for prefix in ("", "/second"):
        document = op.get(f"{prefix}/.well-known/openid-configuration").json
        assert document["issuer"] == ISSUER + prefix
        assert document["jwks_uri"] == f"{ISSUER}{prefix}/jwks"
        assert {"code", "id_token", "code id_token token"} <= set(document["response_types_supported"])
        assert "S256" in document["code_challenge_methods_supported"]
    assert op.get("/jwks").json["keys"][0]["kid"] != op.get("/second/jwks").json["keys"][0]["kid"]


def test_code_with_pkce_gives_a_valid_id_token_access_and_refresh_token(op, clock):
    code = answer(log_in(op, code_challenge=CHALLENGE, code_challenge_method="S256", prompt="consent"))["code"]
    tokens = redeem(op, code, code_verifier=VERIFIER).json
    claims = verified(op, tokens["id_token"], clock=clock, nonce="n-1", access_token=tokens["access_token"])
    assert claims["sub"] == "u-alice" and claims["iat"] == int(clock.now()) and claims["at_hash"]
    assert claims["email"] == "alice@example.com" and "address" not in claims  # released by scope
    assert tokens["refresh_token"] and tokens["token_type"] == "Bearer"
    assert redeem(op, code, code_verifier=VERIFIER).json["error"] == "invalid_grant"  # single use


def test_pkce_verifier_is_checked_and_public_clients_must_use_it(op):
    code = answer(log_in(op, code_challenge=CHALLENGE, code_challenge_method="S256", prompt="consent"))["code"]
    assert redeem(op, code, code_verifier="w" * 50).json["error"] == "invalid_grant"
    public = {"client_id": "conformance-public"}
    refused = log_in(op, **public)
    assert answer(refused)["error"] == "invalid_request"  # no code_challenge from a public client
    code = answer(log_in(op, **public, code_challenge=VERIFIER, code_challenge_method="plain"))["code"]
    tokens = op.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                     "client_id": "conformance-public", "code_verifier": VERIFIER})
    assert tokens.status_code == 200 and tokens.json["id_token"]


def test_plain_pkce_is_refused_when_the_fixture_says_so(tmp_path, clock):
    source = oidc.fixtures.DEFAULT.read_text().replace("pkce_plain: true", "pkce_plain: false")
    (tmp_path / "f.yaml").write_text(source)
    op = oidc.create_app(tmp_path / "f.yaml", clock=clock, variables={"MIC": "http://m", "APP": "http://app.test"})
    client = op.test_client()
    refused = log_in(client, code_challenge=VERIFIER, code_challenge_method="plain")
    assert answer(refused)["error"] == "invalid_request"
    assert client.get("/.well-known/openid-configuration").json["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize("response_type, claims_type, returned", [
    ("id_token", ImplicitIDToken, {"id_token"}),
    ("id_token token", ImplicitIDToken, {"id_token", "access_token"}),
    ("code id_token", HybridIDToken, {"code", "id_token"}),
    ("code token", None, {"code", "access_token"}),
    ("code id_token token", HybridIDToken, {"code", "id_token", "access_token"}),
])
def test_every_response_type_answers_in_the_fragment_with_what_it_names(op, clock, response_type, claims_type,
                                                                        returned):
    response = log_in(op, response_type=response_type)
    assert urlsplit(response.headers["Location"]).query == ""  # tokens never in the query
    params = answer(response)
    assert returned <= set(params) and params["state"] == "s1"
    assert ("refresh_token" not in params) and (("id_token" in params) == ("id_token" in response_type))
    if claims_type is not None:
        verified(op, params["id_token"], claims_type, clock=clock, nonce="n-1", code=params.get("code"),
                 access_token=params.get("access_token"))


def test_implicit_needs_a_nonce_and_never_answers_in_the_query(op):
    assert answer(log_in(op, response_type="id_token", nonce=""))["error"] == "invalid_request"
    assert answer(log_in(op, response_type="id_token", response_mode="query"))["error"] == "invalid_request"


def test_code_in_fragment_and_form_post_response_modes(op):
    fragment = log_in(op, response_mode="fragment")
    assert urlsplit(fragment.headers["Location"]).fragment.startswith("code=")
    posted = log_in(op, response_mode="form_post")
    page = posted.get_data(as_text=True)
    assert posted.status_code == 200 and f'action="{REDIRECT}"' in page.replace("%3A", ":").replace("%2F", "/")
    assert 'name="code"' in page and 'value="s1"' in page


def test_openid_scope_and_exact_redirect_uri_are_required(op):
    assert answer(log_in(op, scope="profile"))["error"] == "invalid_scope"
    wrong = op.get("/authorize", query_string=query(redirect_uri=REDIRECT + "/evil"))
    assert wrong.status_code == 400 and "Location" not in wrong.headers


def test_the_idp_session_prompt_and_max_age(op, clock):
    assert "oidc_session" in log_in(op).headers["Set-Cookie"]
    assert answer(op.get("/authorize", query_string=query()))["code"]  # the session logs in
    assert op.get("/authorize", query_string=query(prompt="login")).status_code == 200  # the page again
    clock.advance(120)
    assert op.get("/authorize", query_string=query(max_age="60")).status_code == 200
    assert answer(op.get("/authorize", query_string=query(prompt="none", max_age="60")))["error"] == "login_required"
    assert answer(op.get("/authorize", query_string=query(prompt="none")))["code"]
    op.get("/logout")
    assert answer(op.get("/authorize", query_string=query(prompt="none")))["error"] == "login_required"


def test_sessions_are_per_issuer(op):
    log_in(op)
    assert answer(op.get("/second/authorize", query_string=query(prompt="none")))["error"] == "login_required"


def test_consent_is_asked_once_and_refusable(op):
    ask = {"client_id": "consenting-app", "scope": "openid email"}
    page = log_in(op, **ask)
    assert page.status_code == 200 and b"Allow access" in page.data
    assert answer(op.get("/authorize", query_string=query(**ask, prompt="none")))["error"] == "consent_required"
    pending = page.get_data(as_text=True).split('name="pending" value="')[1].split('"')[0]
    denied = op.post("/authorize", query_string=query(**ask), data={"pending": pending, "consent": "deny"})
    assert answer(denied)["error"] == "access_denied"
    page = op.get("/authorize", query_string=query(**ask))
    pending = page.get_data(as_text=True).split('name="pending" value="')[1].split('"')[0]
    assert answer(op.post("/authorize", query_string=query(**ask), data={"pending": pending, "consent": "allow"}))["code"]
    assert answer(op.get("/authorize", query_string=query(**ask, prompt="none")))["code"]


def test_a_totp_user_gets_a_second_step_enrolled_at_first_login(op, clock):
    page = log_in(op, username="carol", password="lookingglass")
    html = page.get_data(as_text=True)
    secret = html.split('id="totp-secret">')[1].split("<")[0]
    pending = html.split('name="pending" value="')[1].split('"')[0]
    assert op.post("/authorize", query_string=query(), data={"pending": pending, "totp_code": "000000"}).status_code in (401, 302)
    code = pyotp.TOTP(secret).at(clock.now())
    done = op.post("/authorize", query_string=query(), data={"pending": pending, "totp_code": code})
    tokens = redeem(op, answer(done)["code"]).json
    assert verified(op, tokens["id_token"], clock=clock)["amr"] == ["pwd", "otp"]
    again = log_in(op, username="carol", password="lookingglass", prompt="login").get_data(as_text=True)
    assert "totp-secret" not in again  # enrolled: no secret shown twice
    pending = again.split('name="pending" value="')[1].split('"')[0]
    reused = op.post("/authorize", query_string=query(), data={"pending": pending, "totp_code": code})
    assert reused.status_code == 401  # a code serves once
    assert op.post("/token", auth=CLIENT, data={"grant_type": "password", "username": "carol",
                                                "password": "lookingglass", "scope": "openid"}).status_code == 400


def test_refresh_rotates_refuses_reuse_and_bogus_and_needs_offline_access(op, clock):
    tokens = redeem(op, answer(log_in(op, prompt="consent"))["code"]).json
    refreshed = op.post("/token", auth=CLIENT, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json["refresh_token"] != tokens["refresh_token"]
    assert verified(op, refreshed.json["id_token"], clock=clock)["sub"] == "u-alice"
    for stale in (tokens["refresh_token"], "bogus"):
        again = op.post("/token", auth=CLIENT, data={"grant_type": "refresh_token", "refresh_token": stale})
        assert again.status_code == 400 and again.json["error"] == "invalid_grant"
    online = redeem(op, answer(log_in(op, scope="openid profile"))["code"]).json
    assert "refresh_token" not in online


def test_offline_access_is_ignored_without_prompt_consent_as_openid_connect_core_11_says(op):
    for extra in ({}, {"prompt": "login"}):
        tokens = redeem(op, answer(log_in(op, **extra))["code"]).json
        assert "refresh_token" not in tokens and "offline_access" not in tokens["scope"].split()
    consented = redeem(op, answer(log_in(op, prompt="login consent"))["code"]).json
    assert consented["refresh_token"] and "offline_access" in consented["scope"].split()
    hybrid = answer(log_in(op, response_type="code id_token", prompt="consent"))
    assert redeem(op, hybrid["code"]).json["refresh_token"]


def test_password_client_credentials_and_client_secret_post(op):
    password = op.post("/token", data={"grant_type": "password", "username": "alice", "password": "wonderland",
                                       "scope": "openid email", "client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert password.status_code == 200 and password.json["id_token"]
    wrong = op.post("/token", auth=CLIENT, data={"grant_type": "password", "username": "alice", "password": "x"})
    assert wrong.json["error"] == "invalid_grant"
    service = op.post("/token", auth=CLIENT, data={"grant_type": "client_credentials"})
    assert service.status_code == 200 and "id_token" not in service.json and "refresh_token" not in service.json
    assert op.post("/token", auth=("conformance", "nope"), data={"grant_type": "client_credentials"}).status_code == 401


def test_userinfo_releases_claims_by_scope(op):
    def userinfo(scope):
        tokens = redeem(op, answer(log_in(op, scope=scope, prompt="login"))["code"]).json
        return op.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json
    assert userinfo("openid") == {"sub": "u-alice"}
    assert set(userinfo("openid email")) == {"sub", "email", "email_verified"}
    assert userinfo("openid address phone")["address"]["locality"] == "Oxford"
    assert "phone_number" in userinfo("openid phone") and "name" in userinfo("openid profile")
    assert op.get("/userinfo", headers={"Authorization": "Bearer bogus"}).status_code == 401


def test_introspection_and_revocation(op, clock):
    tokens = redeem(op, answer(log_in(op, prompt="consent"))["code"]).json
    seen = op.post("/introspect", auth=CLIENT, data={"token": tokens["access_token"]}).json
    assert seen["active"] is True and seen["sub"] == "u-alice" and seen["client_id"] == "conformance"
    assert op.post("/introspect", auth=CLIENT, data={"token": "bogus"}).json == {"active": False}
    assert op.post("/revoke", auth=CLIENT, data={"token": tokens["refresh_token"]}).status_code == 200
    assert op.post("/introspect", auth=CLIENT, data={"token": tokens["refresh_token"]}).json == {"active": False}
    clock.advance(3600)
    assert op.post("/introspect", auth=CLIENT, data={"token": tokens["access_token"]}).json == {"active": False}


def test_end_session_goes_back_only_to_a_registered_uri(op):
    tokens = redeem(op, answer(log_in(op))["code"]).json
    out = op.get("/logout", query_string={"id_token_hint": tokens["id_token"], "state": "bye",
                                         "post_logout_redirect_uri": "http://app.test/logged-out"})
    assert out.status_code == 302 and out.headers["Location"] == "http://app.test/logged-out?state=bye"
    assert answer(op.get("/authorize", query_string=query(prompt="none")))["error"] == "login_required"
    evil = op.get("/logout", query_string={"client_id": "conformance", "post_logout_redirect_uri": "http://evil.test"})
    assert evil.status_code == 400


@pytest.mark.parametrize("mutation, refused_by", [
    ("bad-signature", "signature"), ("alg-none", "signature"), ("unknown-kid", "signature"),
    ("wrong-iss", "iss"), ("wrong-aud", "aud"), ("expired", "exp"), ("no-nonce", "nonce"),
    ("wrong-nonce", "nonce"), ("bad-at-hash", "at_hash"),
])
def test_each_armed_forgery_fails_exactly_its_check(op, clock, mutation, refused_by):
    armed = op.post("/_control/tamper", json={"artifact": "id_token", "mutation": mutation})
    assert armed.status_code == 201
    tokens = redeem(op, answer(log_in(op))["code"]).json
    with pytest.raises((JoseError, ValueError)) as refused:
        verified(op, tokens["id_token"], clock=clock, nonce="n-1", access_token=tokens["access_token"])
    assert refused_by in str(refused.value) or refused_by == "signature"
    assert op.get("/_control/tamper").json == {"armed": []}  # used up
    fresh = redeem(op, answer(log_in(op))["code"]).json
    verified(op, fresh["id_token"], clock=clock, nonce="n-1", access_token=fresh["access_token"])


def test_tamper_requests_are_checked(op):
    assert op.post("/_control/tamper", json={"artifact": "id_token", "mutation": "nope"}).status_code == 400
    assert op.post("/_control/tamper", json={"artifact": "code", "mutation": "alg-none"}).status_code == 400
    op.post("/_control/tamper", json={"artifact": "id_token", "mutation": "alg-none", "times": 3})
    assert op.delete("/_control/tamper").json == {"cleared": 1}
    op.post("/_control/tamper", json={"artifact": "id_token", "mutation": "expired"})
    op.delete("/_control/faults")  # what the harness does after every cell
    assert op.get("/_control/tamper").json == {"armed": []}


def test_key_rotation_keeps_the_old_key_published_until_retired(op, clock):
    old = redeem(op, answer(log_in(op))["code"]).json["id_token"]
    kids = op.post("/_control/keys", json={"rotate": True, "issuer": ""}).json["issuers"]["/"]
    assert len(kids) == 2
    new = redeem(op, answer(log_in(op, prompt="login"))["code"]).json["id_token"]
    assert json.loads(base64.urlsafe_b64decode(new.split(".")[0] + "==")).get("kid") == kids[1]
    verified(op, old, clock=clock)
    verified(op, new, clock=clock)
    op.post("/_control/keys", json={"retire_previous": True})
    with pytest.raises(JoseError):
        verified(op, old, clock=clock)


def test_a_broken_fixture_names_file_and_line(tmp_path):
    (tmp_path / "f.yaml").write_text("issuers: [nope]\nclients: []\nusers: []\n")
    with pytest.raises(YamlError) as raised:
        oidc.create_app(tmp_path / "f.yaml")
    assert raised.value.line == 1
