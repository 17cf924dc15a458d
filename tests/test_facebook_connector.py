"""The Facebook connector against the mock Graph over HTTP, where scenarios cannot reach:
each Graph refusal's mapping, a service without the app secret, ``userIdAttribute``,
the upstream "refresh" (Graph extends a live token only), and the console's Facebook
TTL defaults."""
import re
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest

from mic_reference import config as mic_config
from mic_reference.config import AuthService, Provider
from mic_reference.connectors import available, facebook, service_defaults
from mic_reference.connectors.capabilities import ConnectorError
from test_mock_facebook import clock, idp  # noqa: F401 (the mock Graph on its moved clock)

CALLBACK = "http://mic.test/facebook/redirect"
MIC_APP = {"clientId": "100000000000042", "clientSecret": "mic-facebook-secret", "scope": "email"}


@pytest.fixture(autouse=True)
def no_faults(idp):
    yield
    httpx2.delete(f"{idp}/_control/faults")


def connector(idp, **options):
    service = AuthService(id="fb", owner="kid_test", scope="environment", name="fb", redirect_uris=("http://app/cb",),
                          allowed_attributes=("id", "audience"),
                          provider=Provider("facebook", idp, {**MIC_APP, **options}))
    return facebook.build(service, httpx2.HTTPTransport())


def callback(login, user="alice", password="wonderland", **ticked):
    """The parameters Facebook's dialog sends the browser back to the MIC with."""
    with httpx2.Client(follow_redirects=False) as browser:
        url = login.login_url(CALLBACK, "state-1")
        answer = browser.post(url, data={"username": user, "password": password})
        if answer.status_code == 200:  # the permissions screen
            token = re.search(r'name="fb_dtsg" value="([^"]+)"', answer.text).group(1)
            answer = browser.post(url, data={"fb_dtsg": token, **ticked})
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


def refused(call) -> ConnectorError:
    with pytest.raises(ConnectorError) as raised:
        call()
    return raised.value


def test_a_login_reads_the_profile_with_a_long_lived_token(idp, clock):
    login = connector(idp)
    identity = login.complete(callback(login, decision="allow", grant_email="on"), CALLBACK, clock.now())
    assert identity.user_id == "10000000000000001"
    assert identity.attributes == {"id": "10000000000000001", "name": "Alice Liddell", "first_name": "Alice",
                                   "last_name": "Liddell", "email": "alice@example.com"}
    assert identity.upstream_token["expires_in"] == 5184000 and identity.upstream_token["token_type"] == "bearer"


def test_the_user_id_attribute_names_the_profile_field_that_is_the_id(idp, clock):
    login = connector(idp, userIdAttribute="email")
    params = callback(login, decision="allow", grant_email="on")
    assert login.complete(params, CALLBACK, clock.now()).user_id == "alice@example.com"
    declined = callback(connector(idp, userIdAttribute="email"), user="bob", password="builder", decision="allow")
    assert "who the user is" in refused(lambda: login.complete(declined, CALLBACK, clock.now())).description


def test_a_cancel_is_access_denied_and_another_dialog_error_a_server_error(idp, clock):
    login = connector(idp)
    cancelled = refused(lambda: login.complete(callback(login, decision="cancel"), CALLBACK, clock.now()))
    assert cancelled.error == "access_denied" and "user_denied" in cancelled.debug
    other = refused(lambda: login.complete({"error": "server_error", "state": "s"}, CALLBACK, clock.now()))
    assert other.error == "server_error"
    assert refused(lambda: login.complete({"state": "s"}, CALLBACK, clock.now())).error == "server_error"


def graph_error(code, subcode=None):
    return {"error": {"message": "Graph says no", "type": "OAuthException", "code": code,
                      **({"error_subcode": subcode} if subcode else {}), "fbtrace_id": "AbC"}}


@pytest.mark.parametrize("path, status, body, error, words", [
    ("/v3.0/me", 400, graph_error(190, 463), "access_denied", "expired"),
    ("/v3.0/me", 400, graph_error(190, 458), "access_denied", "removed the app"),
    ("/v3.0/me", 400, graph_error(190), "access_denied", "not valid"),
    ("/v3.0/oauth/access_token", 400, graph_error(4), "temporarily_unavailable", "busy"),
    ("/v3.0/oauth/access_token", 400, graph_error(1), "server_error", "app settings"),
    ("/v3.0/oauth/access_token", 400, graph_error(100, 36007), "server_error", "refused the login"),
    ("/v3.0/oauth/access_token", 503, "down for maintenance", "temporarily_unavailable", "not answering"),
    ("/v3.0/me", 200, "not json", "server_error", "cannot read"),
    ("/v3.0/oauth/access_token", 200, {"token_type": "bearer"}, "server_error", "cannot read"),
])
def test_graph_s_refusals_become_plain_oauth_errors(idp, clock, path, status, body, error, words):
    login = connector(idp)
    params = callback(login, decision="allow")
    assert httpx2.post(f"{idp}/_control/faults", json={"path": path, "status": status, "body": body,
                                                          "times": 1}).status_code == 201
    refusal = refused(lambda: login.complete(params, CALLBACK, clock.now()))
    assert refusal.error == error and words in refusal.description
    if isinstance(body, dict) and "error" in body:
        assert f"Graph error {body['error']['code']}" in refusal.debug


def test_graph_out_of_reach_is_temporarily_unavailable(clock):
    login = connector("http://127.0.0.1:9")
    refusal = refused(lambda: login.complete({"code": "x", "state": "s"}, CALLBACK, clock.now()))
    assert refusal.error == "temporarily_unavailable"


def test_without_the_app_secret_graph_will_not_redeem_the_code(idp, clock):
    login = connector(idp, clientSecret="")
    refusal = refused(lambda: login.complete(callback(login, decision="allow"), CALLBACK, clock.now()))
    assert refusal.error == "server_error" and "client_secret" in refusal.debug
    assert refused(lambda: login.refresh(facebook.Identity("u", upstream_token={"access_token": "t"}),
                                         clock.now())).error == "invalid_grant"


def test_graph_extends_a_live_token_and_an_expired_one_means_logging_in_again(idp, clock):
    login = connector(idp)
    identity = login.complete(callback(login, decision="allow"), CALLBACK, clock.now())
    extended = login.refresh(identity, clock.now())
    assert extended.user_id == identity.user_id
    assert extended.upstream_token["access_token"] != identity.upstream_token["access_token"]
    clock.advance(5184000)
    refusal = refused(lambda: login.refresh(extended, clock.now()))
    assert refusal.error == "invalid_grant" and "expired" in refusal.description and "463" in refusal.debug


def test_a_facebook_service_takes_the_console_s_facebook_ttls_unless_it_sets_its_own(tmp_path):
    schemas = {name: module.PROVIDER_SCHEMA for name, module in available().items()}
    demo = mic_config.load(variables={"OAUTH2_IDP": "http://idp", "APP": "http://app"},
                           provider_schemas=schemas, service_defaults=service_defaults())
    services = demo.environment("kid_demo").services
    assert (services["facebook"].grant_ttl, services["facebook"].token_ttl, services["facebook"].refresh_ttl) \
        == (10, 3600, 1209600)
    assert services["oauth2-token-id"].grant_ttl == 60  # another type keeps every type's default
    own = tmp_path / "own.yaml"
    own.write_text(mic_config.DEMO.read_text().replace("              - id: facebook\n",
                                                         "              - id: facebook\n                grantTtl: 30\n"))
    configured = mic_config.load(own, {"OAUTH2_IDP": "http://idp", "APP": "http://app"},
                                 provider_schemas=schemas, service_defaults=service_defaults())
    assert configured.environment("kid_demo").services["facebook"].grant_ttl == 30
