"""The reference MIC over the wire, brokering to the mock OAuth2 provider."""
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

import mic_reference
from mic_reference.connectors import available
from plumbing.yamlfile import YamlError


def mic_app(fleet):
    """The MIC's Flask app inside the fleet, to look at what it stored."""
    app = fleet.fleet.app("mic")
    assert isinstance(app, mic_reference.Flask)
    return app


def start_login(fleet, http, **overrides):
    target = fleet.target
    query = {"client_id": "kid_demo", "redirect_uri": target.redirect_uri, "response_type": "code",
             "scope": "openid", "state": "app-state", **overrides}
    return http.get(f"{target.mic}/v3/oauth/auth", params=query)


def browser_login(fleet, http, password="wonderland"):
    """Follow the flow as a browser would, until it reaches the app; return the app's URL."""
    response = start_login(fleet, http)
    assert response.status_code == 302
    upstream = http.post(response.headers["location"], data={"username": "alice", "password": password})
    if upstream.status_code != 302:
        return upstream
    return http.get(upstream.headers["location"])


def params(response):
    return parse_qs(urlsplit(response.headers["location"]).query)


def redeem(fleet, http, code, redirect_uri=None):
    target = fleet.target
    return http.post(f"{target.mic}/v3/oauth/token", auth=(target.app_key, target.app_secret), data={
        "grant_type": "authorization_code", "client_id": target.app_key, "code": code,
        "redirect_uri": redirect_uri or target.redirect_uri})


def password_grant(fleet, http, password="wonderland", client_id="kid_demo.oauth2-password"):
    return http.post(f"{fleet.target.mic}/v3/oauth/token", auth=(client_id, fleet.target.app_secret), data={
        "grant_type": "password", "client_id": client_id, "username": "alice", "password": password})


def test_the_upstream_is_asked_with_mics_own_redirect_and_state(fleet, http):
    upstream = urlsplit(start_login(fleet, http).headers["location"])
    query = parse_qs(upstream.query)
    assert f"{upstream.scheme}://{upstream.netloc}" == fleet.urls["oauth2-idp"]
    assert query["redirect_uri"] == [fleet.urls["mic"] + "/oauth2/redirect"]
    assert query["state"] != ["app-state"]  # MIC's own reference, not the app's state


def test_authorization_code_flow_end_to_end(fleet, http):
    landing = browser_login(fleet, http)
    assert landing.headers["location"].startswith(fleet.target.redirect_uri)
    assert params(landing)["state"] == ["app-state"]
    tokens = redeem(fleet, http, params(landing)["code"][0])
    assert tokens.status_code == 200
    assert tokens.json()["token_type"] == "Bearer" and tokens.json()["expires_in"] == 3600
    assert tokens.headers["cache-control"] == "no-store"


def test_a_second_redemption_fails_and_revokes_the_first_tokens(fleet, http):
    code = params(browser_login(fleet, http))["code"][0]
    first = redeem(fleet, http, code).json()["access_token"]
    vault = mic_app(fleet).extensions["mic"].vault
    assert not vault.find_token(first).is_revoked()
    again = redeem(fleet, http, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant" and "debug" in again.json()
    assert vault.find_token(first).is_revoked()


def test_code_expires_after_the_grant_ttl(fleet, http):
    code = params(browser_login(fleet, http))["code"][0]
    httpx2.post(f"{fleet.urls['mic']}/_control/clock", json={"advance": 61})
    assert redeem(fleet, http, code).json()["error"] == "invalid_grant"


def test_code_is_bound_to_the_redirect_uri(fleet, http):
    code = params(browser_login(fleet, http))["code"][0]
    assert redeem(fleet, http, code, redirect_uri=fleet.target.redirect_uri + "x").json()["error"] == "invalid_grant"


def test_unregistered_redirect_uri_gets_json_not_a_redirect(fleet, http):
    response = start_login(fleet, http, redirect_uri="http://evil.test/callback")
    assert response.status_code == 400 and "location" not in response.headers
    assert response.json()["error"] == "invalid_request"


def test_unknown_app_key_and_unknown_service_are_refused(fleet, http):
    for client_id in ("kid_nobody", "kid_demo.no-such-service"):
        response = start_login(fleet, http, client_id=client_id)
        assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_upstream_refusal_comes_back_to_the_app_as_an_error_redirect(fleet, http):
    response = start_login(fleet, http)
    ref = parse_qs(urlsplit(response.headers["location"]).query)["state"][0]
    back = http.get(f"{fleet.urls['mic']}/oauth2/redirect", params={"error": "access_denied", "state": ref})
    assert back.status_code == 302 and params(back)["error"] == ["access_denied"]
    assert params(back)["state"] == ["app-state"]


def test_a_replayed_or_forged_callback_is_refused(fleet, http):
    response = start_login(fleet, http)
    upstream = http.post(response.headers["location"], data={"username": "alice", "password": "wonderland"})
    assert http.get(upstream.headers["location"]).status_code == 302
    replay = http.get(upstream.headers["location"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_request"


def test_password_grant(fleet, http):
    tokens = password_grant(fleet, http)
    assert tokens.status_code == 200 and tokens.json()["refresh_token"] == "null"
    wrong = password_grant(fleet, http, password="nope")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert "nope" not in wrong.text


def test_password_grant_on_a_redirect_only_service_is_unauthorized_client(fleet, http):
    response = password_grant(fleet, http, client_id="kid_demo")
    assert response.json()["error"] == "unauthorized_client"


def test_wrong_app_secret_is_invalid_client(fleet, http):
    response = http.post(f"{fleet.target.mic}/v3/oauth/token", auth=("kid_demo.oauth2-password", "wrong-secret"),
                         data={"grant_type": "password", "username": "alice", "password": "wonderland"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("fault, status, error", [
    ({"status": 503, "body": "down"}, 503, "temporarily_unavailable"),
    ({"drop": True}, 503, "temporarily_unavailable"),
    ({"status": 200, "body": "<html>not a token</html>"}, 502, "server_error"),
])
def test_an_upstream_outage_is_a_clean_error_not_a_500(fleet, http, fault, status, error):
    httpx2.post(f"{fleet.urls['oauth2-idp']}/_control/faults", json={"path": "/oauth/token", **fault})
    response = password_grant(fleet, http)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert response.json()["debug"]


@pytest.mark.parametrize("body", [{"grant_type": "magic"}, {}, {"grant_type": "authorization_code"}])
def test_malformed_token_requests_get_rfc6749_errors(fleet, http, body):
    response = http.post(f"{fleet.target.mic}/oauth/token", data=body,
                         auth=(fleet.target.app_key, fleet.target.app_secret))
    assert 400 <= response.status_code < 500
    assert set(response.json()) >= {"error", "error_description", "debug"}


@pytest.mark.parametrize("version", ["", "/v1", "/v2", "/v3"])
def test_every_version_prefix_answers(fleet, http, version):
    response = http.post(f"{fleet.target.mic}{version}/oauth/token", data={"grant_type": "password"},
                         auth=("kid_demo.oauth2-password", fleet.target.app_secret))
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_configuration_errors_name_the_file_line_and_field(tmp_path):
    config = (mic_reference.config.DEMO.read_text()
              .replace("userIdAttribute: id\n                    userIdEndpoint", "userIdEndpoint", 1))
    path = tmp_path / "mic.yaml"
    path.write_text(config)
    with pytest.raises(YamlError) as raised:
        mic_reference.create_app(path, variables={"OAUTH2_IDP": "http://idp", "APP": "http://app"})
    assert raised.value.source == str(path) and raised.value.line is not None
    assert "userIdAttribute" in raised.value.message


def test_allowed_attributes_must_include_id_and_audience(tmp_path):
    path = tmp_path / "mic.yaml"
    path.write_text(mic_reference.config.DEMO.read_text().replace("[id, audience, email, name]", "[email]"))
    with pytest.raises(YamlError, match=r"allowedAttributes must include id and audience \(missing: id, audience\)"
                       ) as raised:
        mic_reference.config.load(path, {"OAUTH2_IDP": "http://idp", "APP": "http://app"},
                                  provider_schemas={k: v.PROVIDER_SCHEMA for k, v in available().items()})
    assert raised.value.line is not None


def test_a_pending_login_expires_on_the_clock(fleet, http):
    response = start_login(fleet, http)
    upstream = http.post(response.headers["location"], data={"username": "alice", "password": "wonderland"})
    httpx2.post(f"{fleet.urls['mic']}/_control/clock", json={"advance": 601})
    late = http.get(upstream.headers["location"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_request"


@pytest.mark.parametrize("old, new, message", [
    ("useServices: [org-sso]\n            services:", "useServices: [nowhere]\n            services:",
     "nowhere is not a service of organization demo-org"),
    ("defaultService: org-sso", "defaultService: oauth2-code", "defaultService oauth2-code is not one of"),
])
def test_organization_services_are_checked_by_name(tmp_path, old, new, message):
    path = tmp_path / "mic.yaml"
    path.write_text(mic_reference.config.DEMO.read_text().replace(old, new, 1))
    with pytest.raises(YamlError, match=message) as raised:
        mic_reference.config.load(path, {"OAUTH2_IDP": "http://idp", "APP": "http://app"},
                                  provider_schemas={k: v.PROVIDER_SCHEMA for k, v in available().items()})
    assert raised.value.line is not None


def test_a_service_outside_the_environments_reach_is_refused(fleet, http):
    for client_id in ("kid_own_login.org-sso", "kid_second.oauth2-code", "kid_outsider.org-sso"):
        response = start_login(fleet, http, client_id=client_id)
        assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client", client_id
