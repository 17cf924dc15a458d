"""npm oidc-provider, a certified OpenID provider none of our code wrote, as a vendor's upstream:
the MIC's OpenID Connect connector certifies against it (harness/upstreams/oidc-provider.yaml),
the openid-provider profile passes against it directly, and a wrong client secret is refused."""
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness import certify

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "tests" / "peers" / "oidc_provider"
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))
DECLARATION = ROOT / "harness" / "upstreams" / "oidc-provider.yaml"
TARGET = PEER / "target.yaml"
START_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("node is not installed, so npm oidc-provider cannot run")
    if not (PEER / "node_modules" / "oidc-provider").is_dir():  # the set-up installs it: a broken set-up fails
        pytest.fail("npm oidc-provider is missing: the set-up runs `npm ci` in tests/peers/oidc_provider")
    return executable


class _Landing(BaseHTTPRequestHandler):
    """The relying party's redirect URI: answers every GET (the harness reads the code from the URL)."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"back at the relying party")

    def log_message(self, *args):
        pass


@pytest.fixture
def app_redirect():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Landing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/callback"
    server.shutdown()
    server.server_close()


@contextmanager
def provider(node: str, cwd: Path, mic_port: int, app_redirect: str):
    """server.js on a free loopback port, started from the test's directory; its issuer URL."""
    process = subprocess.Popen([node, str(PEER / "server.js"), "--mic-port", str(mic_port),
                                "--app-redirect", app_redirect], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if not line or not line[0].strip():
            process.kill()
            pytest.fail(f"oidc-provider did not start: {process.stderr.read()[-1000:]}")
        yield json.loads(line[0])["issuer"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_certify(args: list[str], env: dict[str, str], package: Path) -> tuple[subprocess.CompletedProcess, dict]:
    done = subprocess.run([MIC_HARNESS, "certify", *args, "--report", str(package)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600, env={**os.environ, **env})
    manifest_file = package / certify.MANIFEST
    assert manifest_file.exists(), done.stdout[-3000:] + done.stderr[-2000:]
    return done, json.loads(manifest_file.read_text())


def certify_connector(node, tmp_path, app_redirect, client_secret="mic-oidc-secret"):
    mic_port = free_port()
    with provider(node, tmp_path, mic_port, app_redirect) as issuer:
        return run_certify(["--profile", "oidc-connector", "--connector", str(DECLARATION)], {
            "OP_ISSUER": issuer, "MIC_PORT": str(mic_port), "OP_ALICE_PASSWORD": "wonderland",
            "OP_BOB_PASSWORD": "builder", "OP_CLIENT_SECRET": client_secret}, tmp_path / "package")


def test_the_mics_openid_connect_connector_certifies_against_oidc_provider(node, tmp_path, app_redirect):
    done, manifest = certify_connector(node, tmp_path, app_redirect)
    assert done.returncode == 0 and manifest["verdict"] == "certified", done.stdout[-4000:] + done.stderr[-2000:]
    required = [cell for cell in manifest["cells"] if cell["required"]]
    assert required and all(cell["outcome"] == "passed" for cell in required), required
    passed = {cell["id"] for cell in required}
    for cell in ("scenarios/login/authorization-code.yaml::oidc-code::browser",  # the login page, by its recipe
                 "scenarios/sso/idp-session.yaml::oidc-code::http",              # oidc-provider's own session
                 "scenarios/refresh/rotation.yaml::oidc-code::http"):            # the MIC's refresh over it
        assert cell in passed
    assert "oidc-mfa" in manifest["unmapped"]  # no TOTP step at this provider
    not_applicable = [f"{cell['id']}: {cell['reason']}" for cell in manifest["cells"] if not cell["applicable"]]
    print("not applicable to oidc-provider:", *not_applicable, sep="\n  ")
    assert "mic-oidc-secret" not in (tmp_path / "package" / certify.MANIFEST).read_text()


def test_the_openid_provider_profile_passes_against_oidc_provider(node, tmp_path, app_redirect):
    with provider(node, tmp_path, free_port(), app_redirect) as issuer:
        done, manifest = run_certify(["--profile", "openid-provider", "--target", str(TARGET)],
                                     {"OP_ISSUER": issuer, "OP_REDIRECT_URI": app_redirect}, tmp_path / "package")
    assert done.returncode == 0 and manifest["verdict"] == "certified", done.stdout[-4000:] + done.stderr[-2000:]
    outcomes = {cell["id"].split("::")[0]: (cell["outcome"], cell["required"]) for cell in manifest["cells"]}
    assert outcomes["scenarios/provider/code-pkce-nonce.yaml"] == ("passed", True)
    # a confidential client's refresh token does not rotate by default: RFC 9700 4.14.2 asks that of public ones
    assert outcomes["scenarios/provider/refresh-rotation.yaml"] == ("warned", True)
    assert outcomes["scenarios/provider/refresh-rotation-public.yaml"] == ("passed", True)
    # code only, as oidc-provider refuses implicit http redirect URIs: optional (OpenID Connect Core 15.1)
    assert outcomes["scenarios/provider/response-types.yaml"] == ("failed", False)


def test_a_wrong_client_secret_is_refused(node, tmp_path, app_redirect):
    done, manifest = certify_connector(node, tmp_path, app_redirect, client_secret="not-the-secret")
    assert done.returncode != 0 and manifest["verdict"] == "refused"
    refused = "\n".join(manifest["refusals"])
    assert "scenarios/login/authorization-code.yaml::oidc-code::browser" in refused
    assert "scenarios/sso/idp-session.yaml::oidc-code::http" in refused
