"""The MIC's FlexAuth connector against a small real HTTP service whose answers each test scripts."""
import json
import threading
import time

import flask
import httpx2
import pytest

from mic_reference import upstream
from mic_reference.config import AuthService, Provider, load
from mic_reference.connectors import available, flexauth
from mic_reference.connectors.capabilities import ConnectorError, LoginContext, PasswordLogin, serving
from plumbing.fleet import Fleet
from plumbing.masking import mask_fields
from plumbing.yamlfile import YamlError

KEY = "the-shared-key"
OK = {"authenticated": True, "token": {"access_token": "service-token", "refresh_token": "r"},
      "email": "alice@example.org", "groups": ["readers"]}


class Scripted:
    """A custom auth service that answers what the test says, and keeps what it received."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answer(200, OK)

    def answer(self, status: int, body, *, delay: float = 0.0, drip: float = 0.0, content_type="application/json",
               headers: dict | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.script = (status, raw, delay, drip, content_type, headers or {})

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith("/_control/"):  # the fleet asks whether it is up
            start_response("204 No Content", [])
            return [b""]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.received.append({"path": environ["PATH_INFO"], "body": json.loads(environ["wsgi.input"].read(length)),
                              "headers": {k[5:].replace("_", "-").title(): v for k, v in environ.items()
                                          if k.startswith("HTTP_")}})
        status, raw, delay, drip, content_type, headers = self.script
        time.sleep(delay)
        start_response(f"{status} SCRIPTED", [("Content-Type", content_type), *headers.items()])
        if not drip:
            return [raw]
        return _dripping(raw, drip)


def _dripping(raw: bytes, pause: float):
    for byte in raw:
        time.sleep(pause)
        yield bytes([byte])


@pytest.fixture(scope="module")
def scripted():
    service = Scripted()
    fleet = Fleet()
    fleet.add("flexauth", lambda urls: service)
    with fleet:
        yield service, fleet.urls["flexauth"]


@pytest.fixture
def service(scripted):
    answers, _ = scripted
    answers.received.clear()
    answers.answer(200, OK)
    return answers


def connector(url: str, **options) -> PasswordLogin:
    settings = {"handlerName": "login", "authKey": KEY, "timeout": 0.5, **options}
    configured = AuthService(id="custom", owner="kid_test", scope="environment", name="custom",
                             redirect_uris=("http://app/cb",), allowed_attributes=("id", "audience"),
                             provider=Provider("flex", url, settings))
    return flexauth.build(configured, httpx2.HTTPTransport())


@pytest.fixture
def login(scripted):
    return connector(scripted[1])


CONTEXT = LoginContext(app_key="kid_test", app_id="test-app", app_name="Test app", environment="Development",
                       request_id="0123456789abcdef0123456789abcdef", now=0.0, first_use=lambda key, until: True,
                       request_headers={"User-Agent": "kinvey-js-sdk", "X-Kinvey-Api-Version": "6"},
                       public_url="https://mic.example:8443")


def test_both_provider_type_names_are_the_flexauth_connector():
    assert available()["flex"] is available()["custom"] is flexauth


def test_the_contract_request_and_a_login(service, login):
    # the MIC's configured public URL, not the Host the request came with
    with flask.Flask(__name__).test_request_context(base_url="http://attacker.example/"), serving(CONTEXT):
        identity = login.password_login("Alice", "wonderland")
    sent = service.received[-1]
    assert sent["path"] == "/_auth/login"
    assert sent["body"] == {"username": "Alice", "password": "wonderland", "options": {}}
    headers = sent["headers"]
    assert headers["X-Auth-Key"] == KEY
    # what kinvey-flex-sdk's moduleGenerator reads: _id, applicationId, and baasUrl for its modules
    assert json.loads(headers["X-Kinvey-App-Metadata"]) == {
        "_id": "kid_test", "applicationId": "test-app", "name": "Test app", "environment": "Development",
        "baasUrl": "https://mic.example:8443"}
    # the SDK reads original headers by lowercase name (host, x-forwarded-proto, x-kinvey-client-app-version)
    assert json.loads(headers["X-Kinvey-Original-Request-Headers"]) == {"user-agent": "kinvey-js-sdk",
                                                                        "x-kinvey-api-version": "6"}
    assert headers["X-Kinvey-Environment-Id"] == "kid_test"
    assert headers["X-Kinvey-Request-Id"] == CONTEXT.request_id
    # the user id is the name as typed; the answer's other members are the attributes
    assert identity.user_id == "Alice"
    assert identity.attributes == {"email": "alice@example.org", "groups": ["readers"]}
    assert identity.upstream_token == {"access_token": "service-token", "token": OK["token"]}


def test_without_a_login_under_way_only_the_key_is_sent(service, login):
    login.password_login("alice", "wonderland")
    assert "X-Kinvey-Request-Id" not in service.received[-1]["headers"]
    assert service.received[-1]["headers"]["X-Auth-Key"] == KEY


def test_handler_options_are_the_body_options(scripted, service):
    connector(scripted[1], handlerOptions={"realm": "staff"}).password_login("alice", "wonderland")
    assert service.received[-1]["body"]["options"] == {"realm": "staff"}


def test_the_user_id_attribute_names_the_user(scripted, service):
    service.answer(200, {**OK, "userId": "u-42"})
    assert connector(scripted[1], userIdAttribute="userId").password_login("alice", "x").user_id == "u-42"
    service.answer(200, OK)
    with pytest.raises(ConnectorError) as refused:
        connector(scripted[1], userIdAttribute="userId").password_login("alice", "x")
    assert refused.value.error == "server_error"


@pytest.mark.parametrize("token, carried", [
    ("opaque", "opaque"),
    ({"access_token": "a", "token_type": "Bearer", "expires_in": 60}, "a"),
    ({"session": 7}, '{"session":7}'),
    ([1, 2], "[1,2]"),
    (42, "42")])
def test_the_token_is_kept_as_sent_and_data_links_carry_it(service, login, token, carried):
    service.answer(200, {"authenticated": True, "token": token})
    assert login.password_login("alice", "x").upstream_token == {"access_token": carried, "token": token}


@pytest.mark.parametrize("token", ["opaque", {"access_token": "a", "token_type": "Bearer", "expires_in": 60},
                                   {"access_token": "a", "expires_in": "60"}])
def test_the_service_token_expiry_never_bounds_the_login(service, login, token):
    """The MIC's TTLs govern a FlexAuth login: no upstream expiry, so no refresh is refused for it."""
    service.answer(200, {"authenticated": True, "token": token})
    assert upstream.expires_at(login.password_login("alice", "x"), now=1000.0) is None


@pytest.mark.parametrize("status, body, error", [
    (401, {"error": "access_denied", "error_description": "Your account is suspended."}, "invalid_grant"),
    (401, {"error": "server_error", "error_description": "Database is down."}, "server_error"),
    (401, {"error": "temporarily_unavailable", "error_description": "Back at noon."}, "temporarily_unavailable"),
    (200, {"authenticated": False, "error_description": "Your account is suspended."}, "invalid_grant")])
def test_the_contract_refusals_keep_the_service_reason(service, login, status, body, error):
    service.answer(status, body)
    with pytest.raises(ConnectorError) as refused:
        login.password_login("alice", "x")
    assert refused.value.error == error and refused.value.description == body["error_description"]


@pytest.mark.parametrize("status, body, error", [
    (401, {"error": "invalid_grant"}, "server_error"),  # not one of the contract's three
    (401, b"Unauthorized", "server_error"),
    (200, b"<html>ok</html>", "server_error"),
    (200, [], "server_error"),
    (200, {"authenticated": "yes", "token": "t"}, "server_error"),
    (200, {"authenticated": True}, "server_error"),  # no token
    (200, {"authenticated": True, "token": None}, "server_error"),
    (200, b"\xff\xfe not utf-8", "server_error"),
    (400, {"error": "access_denied"}, "server_error"),  # the MIC's request was not understood
    (404, b"no such handler", "server_error"),
    (500, b"Traceback (most recent call last):", "server_error"),
    (302, b"", "server_error"),
    (502, b"bad gateway", "temporarily_unavailable"),
    (503, b"", "temporarily_unavailable")])
def test_answers_outside_the_contract_are_clean_errors(service, login, status, body, error):
    service.answer(status, body, headers={"Location": "http://elsewhere.invalid/"} if status == 302 else None)
    with pytest.raises(ConnectorError) as refused:
        login.password_login("alice", "x")
    assert refused.value.error == error
    assert "Traceback" not in refused.value.description and "elsewhere" not in refused.value.description


def test_an_error_the_sdk_serialised_shows_its_message_and_never_its_stack(service, login):
    service.answer(401, {"error": "access_denied", "error_description": {
        "name": "Error", "message": "Account locked.", "stack": "Error: Account locked.\n    at auth (/srv/x.js:3:9)"}})
    with pytest.raises(ConnectorError) as refused:
        login.password_login("alice", "x")
    assert refused.value.error == "invalid_grant" and refused.value.description == "Account locked."


def test_the_service_reason_is_shown_printable_and_short(service, login):
    service.answer(401, {"error": "access_denied", "error_description": "Locked\x00\nuntil\u202e " + "x" * 500})
    with pytest.raises(ConnectorError) as refused:
        login.password_login("alice", "x")
    shown = refused.value.description
    assert shown.startswith("Locked until ") and shown.endswith("...") and len(shown) == flexauth.MAX_DESCRIPTION
    assert "\x00" not in shown and "\u202e" not in shown


def test_the_service_reason_keeps_to_what_an_oauth_error_may_carry(service, login):
    """RFC 6749 5.2: printable ASCII but '"' and '\\'; a reason beyond it must not turn the refusal into another error."""
    service.answer(401, {"error": "access_denied", "error_description": 'Mot de passe erroné pour "名無し" \\ Zoë'})
    with pytest.raises(ConnectorError) as refused:
        login.password_login("alice", "x")
    assert refused.value.error == "invalid_grant" and refused.value.description == "Mot de passe errone pour ' ' Zoe"


def test_a_slow_service_is_temporarily_unavailable_within_the_timeout(service, login):
    service.answer(200, OK, delay=3)
    began = time.monotonic()
    with pytest.raises(ConnectorError) as refused:
        login.password_login("alice", "x")
    assert refused.value.error == "temporarily_unavailable"
    assert time.monotonic() - began < 1.5  # timeout 0.5 s, not the service's 3 s


def test_an_answer_that_trickles_in_is_cut_off_at_the_timeout(service, login):
    service.answer(200, {**OK, "padding": "x" * 100}, drip=0.05)  # whole answer: ~10 s
    began = time.monotonic()
    with pytest.raises(ConnectorError) as refused:
        login.password_login("alice", "x")
    assert refused.value.error == "temporarily_unavailable" and time.monotonic() - began < 1.5


def test_an_unreachable_service_is_temporarily_unavailable():
    fleet = Fleet()
    fleet.add("gone", lambda urls: Scripted())
    with fleet:  # a port that was just served and is closed again
        url = fleet.urls["gone"]
    with pytest.raises(ConnectorError) as refused:
        connector(url).password_login("alice", "x")
    assert refused.value.error == "temporarily_unavailable"


def test_an_oversized_answer_is_refused_without_reading_it_all(service, login):
    service.answer(200, {**OK, "padding": "x" * (4 * 1024 * 1024)})
    with pytest.raises(ConnectorError) as refused:
        login.password_login("alice", "x")
    assert refused.value.error == "server_error" and "bytes" in refused.value.debug


@pytest.mark.parametrize("username, password", [("", "x"), ("alice", ""), ("a" * 1025, "x"), ("alice", "p" * 1025)])
def test_credentials_the_mic_will_not_forward(service, login, username, password):
    with pytest.raises(ConnectorError) as refused:
        login.password_login(username, password)
    assert refused.value.error == "invalid_grant" and service.received == []


def test_concurrent_logins_share_the_connector(service, login):
    results, errors = [], []

    def one():
        try:
            results.append(login.password_login("alice", "wonderland").user_id)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == ["alice"] * 8


@pytest.mark.parametrize("options, complaint", [
    ("{handlerName: login}", "missing 'authKey'"),
    ("{handlerName: 'a/b', authKey: k}", "does not match"),
    ("{handlerName: login, authKey: k, timeout: 300}", "is greater than the maximum"),
    ("{handlerName: login, authKey: k, timeout: 0}", "less than or equal to the minimum"),
    ("{handlerName: login, authKey: k, password: x}", "unknown key 'password'")])
def test_provider_blocks_that_are_wrong_are_named_with_their_line(tmp_path, options, complaint):
    config = tmp_path / "mic.yaml"
    config.write_text(f"""organizations:
  - id: org
    apps:
      - id: app
        environments:
          - appKey: kid_x
            appSecret: x-app-secret
            defaultService: custom
            services:
              - id: custom
                redirectUri: [http://app/cb]
                allowedAttributes: [id, audience]
                provider:
                  type: custom
                  remoteService: http://flexauth.invalid
                  options: {options}
""")
    with pytest.raises(YamlError) as wrong:
        load(config, provider_schemas={"custom": flexauth.PROVIDER_SCHEMA})
    assert complaint in wrong.value.message and wrong.value.line is not None


def test_the_auth_key_is_masked_wherever_configuration_is_shown():
    shown = mask_fields({"provider": {"options": {"handlerName": "login", "authKey": KEY}}})
    assert shown["provider"]["options"]["handlerName"] == "login"
    assert shown["provider"]["options"]["authKey"].startswith("***") and KEY not in json.dumps(shown)
