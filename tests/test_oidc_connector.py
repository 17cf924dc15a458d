"""The MIC's OpenID Connect connector against the mock provider in process: it believes an
id_token only after every check, names the check that failed, and follows key rotation."""
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from flask import Flask, jsonify

from mic_reference import create_app
from mic_reference.config import DEMO, AuthService, Provider
from mic_reference.connectors import oidc as connector_module
from mic_reference.connectors.capabilities import ConnectorError
from mock_idps import oidc
from plumbing.clock import VirtualClock

IDP = "http://127.0.0.1:9"  # never dialled: the transport is the app in process
CALLBACK = "http://mic.test/oidc/redirect"


@pytest.fixture
def clock():
    return VirtualClock(frozen=True)


@pytest.fixture
def idp(clock):
    return oidc.create_app(clock=clock, test_mode=True, variables={"MIC": "http://mic.test", "APP": "http://app.test"})


@pytest.fixture
def connector(idp):
    service = AuthService(id="oidc", owner="kid_x", scope="environment", name="oidc", redirect_uris=("http://app/cb",),
                          allowed_attributes=("id", "audience"), provider=Provider("openid-connect", f"{IDP}/token", {
                              "grantEndpoint": f"{IDP}/authorize", "issuerId": IDP, "clientId": "mic-oidc",
                              "clientSecret": "mic-oidc-secret", "scope": "email offline_access"}))
    return connector_module.build(service, httpx2.WSGITransport(app=idp))


def callback(idp, connector, state="st-1", username="alice", password="wonderland"):
    url = connector.login_url(CALLBACK, state)
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["openid email offline_access"] and query["nonce"] == [connector_module.nonce_for(state)]
    response = idp.test_client().post(url, data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def test_a_login_yields_the_sub_and_claims_and_a_refresh_checks_the_new_id_token(idp, connector, clock):
    identity = connector.complete(callback(idp, connector), CALLBACK, clock.now())
    assert identity.user_id == "u-alice" and identity.attributes["email"] == "alice@example.com"
    assert "nonce" not in identity.attributes and identity.upstream_token["refresh_token"]
    refreshed = connector.refresh(identity, clock.now())
    assert refreshed.upstream_token["id_token"] != identity.upstream_token["id_token"]
    idp.test_client().post("/_control/tamper", json={"mutation": "wrong-aud"})
    with pytest.raises(ConnectorError, match="refused"):
        connector.refresh(refreshed, clock.now())


@pytest.mark.parametrize("mutation, reason", [
    ("bad-signature", "signature"), ("alg-none", "algorithm"), ("unknown-kid", "key"), ("wrong-iss", "iss"),
    ("wrong-aud", "aud"), ("expired", "exp"), ("no-nonce", "nonce"), ("wrong-nonce", "nonce"),
    ("bad-at-hash", "at_hash"),
])
def test_every_forgery_is_refused_with_the_check_it_failed(idp, connector, clock, mutation, reason):
    idp.test_client().post("/_control/tamper", json={"mutation": mutation})
    with pytest.raises(ConnectorError) as refused:
        connector.complete(callback(idp, connector), CALLBACK, clock.now())
    assert refused.value.error == "access_denied"
    assert reason in refused.value.debug.lower(), refused.value.debug


def test_a_code_of_another_login_is_refused_by_its_pkce_verifier(idp, connector, clock):
    params = callback(idp, connector, state="login-one")
    with pytest.raises(ConnectorError, match="refused") as refused:
        connector.complete({**params, "state": "login-two"}, CALLBACK, clock.now())
    assert refused.value.error == "invalid_grant" and "invalid_grant" in refused.value.debug


def test_an_authorization_response_from_another_issuer_is_refused_before_its_code_is_sent(idp, connector, clock):
    params = callback(idp, connector)
    with pytest.raises(ConnectorError, match="another identity provider") as refused:
        connector.complete({**params, "iss": f"{IDP}/second"}, CALLBACK, clock.now())  # RFC 9207 2.4
    assert refused.value.error == "access_denied"
    assert connector.complete({**params, "iss": IDP}, CALLBACK, clock.now()).user_id == "u-alice"


def test_a_rotated_key_is_fetched_and_the_issuers_clock_is_the_mics(idp, connector, clock):
    connector.complete(callback(idp, connector), CALLBACK, clock.now())
    idp.test_client().post("/_control/keys", json={"rotate": True, "retire_previous": True})
    assert connector.complete(callback(idp, connector), CALLBACK, clock.now()).user_id == "u-alice"
    params = callback(idp, connector)
    with pytest.raises(ConnectorError, match="refused"):  # the MIC's clock is an hour past the token's exp
        connector.complete(params, CALLBACK, clock.now() + 3600 + 60)


def discovering(idp, **options):
    """A connector given the issuer alone (and ``options``): the endpoints come from discovery."""
    service = AuthService(id="oidc", owner="kid_x", scope="environment", name="oidc", redirect_uris=("http://app/cb",),
                          allowed_attributes=("id", "audience"), provider=Provider("openid-connect", None, {
                              "issuerId": IDP, "clientId": "mic-oidc", "clientSecret": "mic-oidc-secret",
                              "scope": "email offline_access", **options}))
    return connector_module.build(service, httpx2.WSGITransport(app=idp))


def test_the_issuer_alone_is_enough_and_offline_access_asks_for_consent(idp, clock):
    connector = discovering(idp)
    url = connector.login_url(CALLBACK, "st-1")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{IDP}/authorize?") and query["prompt"] == ["consent"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43  # RFC 7636 4.2
    identity = connector.complete(callback(idp, connector), CALLBACK, clock.now())
    assert identity.user_id == "u-alice" and identity.upstream_token["refresh_token"]  # OpenID Connect Core 11
    assert connector.refresh(identity, clock.now()).upstream_token["access_token"]


def test_explicit_endpoints_and_prompt_win_over_the_defaults(idp):
    connector = discovering(idp, grantEndpoint="http://elsewhere.test/auth", prompt="login consent")
    query = parse_qs(urlsplit(connector.login_url(CALLBACK, "st-1")).query)
    assert connector.login_url(CALLBACK, "st-1").startswith("http://elsewhere.test/auth?")
    assert query["prompt"] == ["login consent"]
    online = discovering(idp, scope="email")
    assert "prompt" not in parse_qs(urlsplit(online.login_url(CALLBACK, "st-1")).query)


def test_without_consent_the_provider_drops_offline_access_and_no_refresh_token_comes(idp, clock):
    connector = discovering(idp, scope="email", prompt="login")
    connector.client.scope = "openid email offline_access"  # as a MIC that sends no prompt=consent asks
    identity = connector.complete(callback(idp, connector), CALLBACK, clock.now())
    assert "refresh_token" not in identity.upstream_token


def test_a_discovery_document_that_is_not_the_issuers_or_is_unreachable_is_a_clean_error(clock):
    liar = Flask("liar")
    liar.add_url_rule("/.well-known/openid-configuration", view_func=lambda: jsonify(issuer="http://other.test"))
    with pytest.raises(ConnectorError) as refused:
        discovering(liar).login_url(CALLBACK, "st-1")
    assert refused.value.error == "server_error" and "other.test" in refused.value.debug
    service = AuthService(id="oidc", owner="kid_x", scope="environment", name="oidc", redirect_uris=("http://a/cb",),
                          allowed_attributes=("id", "audience"), provider=Provider("openid-connect", None, {
                              "issuerId": "http://127.0.0.1:9", "clientId": "mic-oidc"}))
    with pytest.raises(ConnectorError) as down:
        connector_module.build(service, httpx2.HTTPTransport()).login_url(CALLBACK, "st-1")
    assert down.value.error == "temporarily_unavailable"


@pytest.mark.parametrize("old, new, field", [
    ("scope: profile email offline_access", "scope: profile email offline_access\n                    prompt: login",
     "prompt"),  # offline_access needs consent (OpenID Connect Core 11)
    ("scope: profile email offline_access", "prompt: none consent", "prompt"),  # none stands alone (3.1.2.1)
    ("issuerId: ${OIDC_IDP:-http://oidc-idp.invalid}", "issuerId: oidc-idp.invalid", "issuerId"),
])
def test_the_provider_options_are_checked_with_file_and_line(demo_refusal, old, new, field):
    refusal = demo_refusal(old, new)
    assert field in refusal.message and refusal.line is not None


def test_a_provider_whose_discovery_fails_sends_the_app_an_error_not_a_500(tmp_path):
    explicit = " " * 20 + "grantEndpoint: ${OIDC_IDP:-http://oidc-idp.invalid}/authorize\n"
    config = DEMO.read_text().replace(explicit, "", 1)  # the authorization endpoint from discovery
    path = tmp_path / "mic.yaml"
    path.write_text(config)
    variables = {"OIDC_IDP": "http://127.0.0.1:9", "OAUTH2_IDP": "http://idp", "APP": "http://app.test"}
    mic = create_app(path, variables=variables, test_mode=True,
                     database_url=f"sqlite:///{tmp_path / 'vault.sqlite3'}").test_client()
    answer = mic.get("/v3/oauth/auth", query_string={"client_id": "kid_demo.oidc-code", "response_type": "code",
                                                     "redirect_uri": "http://app.test/callback", "state": "app-1"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert answer.headers["Location"].startswith("http://app.test/callback?")
    assert back["error"] == ["temporarily_unavailable"] and back["state"] == ["app-1"]
