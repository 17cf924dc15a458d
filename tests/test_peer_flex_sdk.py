"""A custom auth service written on Kinvey's kinvey-flex-sdk (npm, tests/peers/flex_sdk), none of
whose FlexAuth handling our code wrote, behind the reference MIC: it certifies under
flexauth-connector, and its logins live by the MIC's TTLs whatever its token says.

What the SDK does, read from its source (lib/service/auth.js, moduleGenerator.js and
kinvey-code-task-runner's httpReceiver.js): the key is checked before any handler
(401 InvalidCredentials); a handler answers 200 ``{token, authenticated, <attributes>}`` or
401 with one of the contract's errors, an Error as ``{name, message, stack}``; its modules
call ``<appMetadata.baasUrl>/appdata/<_id>/<collection>/`` with Basic ``_id:mastersecret``.
"""
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

import node
from harness import certify, upstream
from harness.fleet import EmbeddedFleet
from peers.flex_sdk.peer import HERE, USERS, running

ROOT = Path(__file__).resolve().parent.parent
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))
KEY = "flex-sdk-shared-key"
#: the service token's own lifetime (service.js): far shorter than the MIC's token TTL
SERVICE_TOKEN_TTL = 60
KINVEY_INVALID_CREDENTIALS = "Invalid credentials. Please retry your request with correct credentials"


@pytest.fixture(scope="module")
def node_bin():
    return node.installed(HERE, "kinvey-flex-sdk")


@pytest.fixture(scope="module")
def service(node_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("flex-sdk")  # the SDK writes output.log here
    with running(node_bin, workdir, KEY) as url:
        yield url, workdir / "flex-service.out"


def declaration(path: Path, handler: str, key: str = KEY) -> Path:
    path.write_text(json.dumps({  # JSON is YAML
        "variables": {"FLEXAUTH_HANDLER": handler, "FLEXAUTH_AUTH_KEY": key},
        "users": {name: {"password": USERS[name]["password"]} for name in ("alice", "bob", "carol", "Zoë-日本")}}))
    return path


class Mic:
    """The embedded fleet with the SDK service in place of the sample, and an app speaking to it."""

    def __init__(self, fleet: EmbeddedFleet, http: httpx2.Client) -> None:
        self.fleet, self.http, self.target = fleet, http, fleet.target

    def client(self, service_id: str) -> str:
        return self.target.services[service_id].client_id(self.target.app_key)

    def token(self, service_id: str, **form: str) -> httpx2.Response:
        client_id = self.client(service_id)
        return self.http.post(f"{self.target.mic}/v3/oauth/token", auth=(client_id, self.target.app_secret),
                              data={"client_id": client_id, **form})

    def password_grant(self, service_id: str, username: str, password: str) -> httpx2.Response:
        return self.token(service_id, grant_type="password", username=username, password=password)

    def backend_login(self, service_id: str, access_token: str) -> str:
        """The BaaS session (authtoken) for a MIC access token, as the SDKs log in."""
        key = self.target.app_key
        login = self.http.post(f"{self.target.baas}/user/{key}/login", auth=(key, self.target.app_secret),
                               json={"_socialIdentity": {"kinveyAuth": {"access_token": access_token,
                                                                        "client_id": self.client(service_id)}}})
        assert login.status_code == 200, login.text
        return login.json()["_kmd"]["authtoken"]

    def data(self, authtoken: str, collection: str = "books") -> httpx2.Response:
        return self.http.get(f"{self.target.baas}/appdata/{self.target.app_key}/{collection}",
                             headers={"Authorization": f"Kinvey {authtoken}"})


def mic_before(service_url: str, tmp_path: Path, handler: str, key: str = KEY):
    vendor = upstream.load(("flexauth",), service_url, str(declaration(tmp_path / "vendor.yaml", handler, key)))
    return EmbeddedFleet(upstream=vendor)


@pytest.fixture
def mic(request, service, tmp_path):
    """The MIC before the service's handler ``request.param`` names (with the key, or another)."""
    handler, key = request.param if isinstance(request.param, tuple) else (request.param, KEY)
    with mic_before(service[0], tmp_path, handler, key) as fleet, httpx2.Client() as http:
        yield Mic(fleet, http)


def certify_run(url: str, package: Path, vendor: Path) -> subprocess.CompletedProcess:
    return subprocess.run([MIC_HARNESS, "certify", "--profile", "flexauth-connector", "--connector-url", url,
                           "--connector", str(vendor), "--report", str(package)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, env=dict(os.environ))


def test_the_flex_sdk_service_certifies(service, tmp_path):
    done = certify_run(service[0], tmp_path / "package", declaration(tmp_path / "vendor.yaml", "objectToken"))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    manifest = json.loads((tmp_path / "package" / certify.MANIFEST).read_text())
    assert manifest["verdict"] == "certified" and manifest["refusals"] == []
    outcomes = {cell["id"]: cell["outcome"] for cell in manifest["cells"]}
    assert set(outcomes.values()) == {"passed"}, outcomes
    for cell in ("flexauth/login.yaml::flexauth-password::http",  # password grant, temp_login_uri, MIC's page
                 "flexauth/refusals.yaml::flexauth-password::http",  # wrong passwords
                 "flexauth/auth-key.yaml::flexauth-password::http",  # the SDK refuses a missing or wrong key
                 "flexauth/mfa.yaml::flexauth-password::http",  # the handler's reason reaches the app
                 "flexauth/malformed.yaml::flexauth-password::http",
                 # past the MIC's token TTL, long past the service token's expires_in: refreshed
                 "baas/session-lifecycle.yaml::flexauth-refresh::http",
                 "refresh/rotation.yaml::flexauth-refresh::http"):
        assert outcomes[f"scenarios/{cell}"] == "passed"
    assert KEY not in (tmp_path / "package" / certify.MANIFEST).read_text()


def service_token(mic: Mic, authtoken: str) -> str:
    """The service's token as data links receive it (client_token, Base64)."""
    echo = mic.http.get(f"{mic.target.baas}/appdata/{mic.target.app_key}/datalink-echo",
                        headers={"Authorization": f"Kinvey {authtoken}"})
    assert echo.status_code == 200, echo.text
    return base64.b64decode(echo.json()["headers"]["X-Kinvey-Auth"]).decode()


@pytest.mark.parametrize("mic", ["objectToken",  # {access_token, token_type, expires_in}
                                 "stringToken"], indirect=True)
def test_the_mics_ttls_not_the_service_tokens_govern_the_login(mic):
    ttl = mic.target.services["flexauth-refresh"].ttl
    tokens = mic.password_grant("flexauth-refresh", "alice", USERS["alice"]["password"])
    assert tokens.status_code == 200, tokens.text
    session = mic.backend_login("flexauth-refresh", tokens.json()["access_token"])
    carried = service_token(mic, session)
    assert carried.startswith("alice-")  # what the handler issued, forwarded to data links as it came
    mic.fleet.clock.advance(SERVICE_TOKEN_TTL + 1)  # the service's token is past its expires_in
    assert mic.data(session).status_code == 200  # the backend still trusts the session: the MIC's TTL rules
    mic.fleet.clock.advance(ttl["token"])
    assert mic.data(session).status_code == 401  # the MIC's token TTL passed: the SDKs' cue to refresh
    refreshed = mic.token("flexauth-refresh", grant_type="refresh_token",
                          refresh_token=tokens.json()["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    renewed = mic.backend_login("flexauth-refresh", refreshed.json()["access_token"])
    assert mic.data(renewed).status_code == 200
    assert service_token(mic, renewed) == carried  # the service is not asked again; its token is kept


@pytest.mark.parametrize("mic", ["objectToken"], indirect=True)
def test_the_handlers_own_reason_reaches_the_app_and_its_stack_does_not(mic):
    wrong = mic.password_grant("flexauth-password", "alice", "not-her-password")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert wrong.json()["error_description"] == "The password is not right for alice."
    # the handler refuses lorina with an Error, which the SDK sends as {name, message, stack}
    locked = mic.password_grant("flexauth-password", "lorina", USERS["lorina"]["password"])
    assert locked.status_code == 400 and "access_token" not in locked.json()
    assert locked.json() | {"debug": ""} == {"error": "invalid_grant", "error_description": USERS["lorina"]["locked"],
                                             "debug": ""}
    assert "service.js" not in locked.text and "    at " not in locked.text


@pytest.mark.parametrize("mic", [("objectToken", "not-the-services-key")], indirect=True)
def test_a_wrong_auth_key_is_a_clean_server_error(mic):
    """The SDK answers 401 InvalidCredentials, outside the contract's errors: the MIC is misconfigured."""
    refused = mic.password_grant("flexauth-password", "alice", USERS["alice"]["password"])
    assert refused.status_code == 502 and refused.json()["error"] == "server_error"
    assert "access_token" not in refused.json() and "not-the-services-key" not in refused.text


@pytest.mark.parametrize("mic", ["dataStore"], indirect=True)
def test_a_handler_reaches_the_mics_backend_through_the_sdks_data_module(mic, service):
    """modules.dataStore() calls baasUrl, the MIC's own backend, with Basic appKey:mastersecret. The
    MIC gives a custom service none of the app's secrets, so the backend refuses it as Kinvey's
    refuses a wrong secret; before baasUrl was sent, the SDK called https://undefined."""
    _, output = service
    before = output.read_text()
    tokens = mic.password_grant("flexauth-password", "alice", USERS["alice"]["password"])
    assert tokens.status_code == 200, tokens.text
    logged = [json.loads(json.loads(line)["message"]) for line in output.read_text()[len(before):].splitlines()
              if '"baas' in line]
    assert logged == [{"baas": {"error": "InvalidCredentials", "description": KINVEY_INVALID_CREDENTIALS}}]
