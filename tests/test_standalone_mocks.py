"""``python -m mock_idps.saml|oidc|facebook``: each mock served by a process of its own stands in
for a vendor's server, and certifies under its connector profile with ``--connector-url`` and a
declaration, as a vendor's would. What needs the mock's control surface (tampering, faults,
revocations) is not applicable there: the harness reaches a vendor's server only by its URL.
"""
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from harness import certify
from harness.scenario import UNCONTROLLED_UPSTREAM
from plumbing.xmldsig import generate_identity

ROOT = Path(__file__).resolve().parent.parent
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))
START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mock:
    """A ``python -m mock_idps.<name>`` process, started from ``cwd``, and what it printed."""

    def __init__(self, name: str, cwd: Path, *args: str) -> None:
        self.cwd = cwd
        self.process = subprocess.Popen([sys.executable, "-m", f"mock_idps.{name}", "--port", "0", *args], cwd=cwd,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [self._lines.put(line) for line in self.process.stdout], daemon=True).start()
        self.banner = self.line()
        self.url = self.banner.split(" on ", 1)[1].strip()

    def line(self) -> str:
        try:
            return self._lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.process.kill()
            pytest.fail(f"the mock printed nothing: {self.process.stderr.read()[-2000:]}")

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(timeout=30)


@contextmanager
def running(name: str, cwd: Path, *args: str):
    mock = Mock(name, cwd, *args)
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture(scope="module")
def mic_port() -> int:
    """The reference MIC's port, known to the mocks before it runs: their redirect URIs and SAML
    service providers are registered under it."""
    return free_port()


@pytest.fixture(scope="module")
def saml(tmp_path_factory, mic_port):
    with running("saml", tmp_path_factory.mktemp("saml"), "--var", f"MIC=http://127.0.0.1:{mic_port}") as mock:
        yield mock


@pytest.fixture(scope="module")
def oidc(tmp_path_factory, mic_port):
    with running("oidc", tmp_path_factory.mktemp("oidc"), "--var", f"MIC=http://127.0.0.1:{mic_port}",
                 "--var", "APP=http://app.invalid") as mock:
        yield mock


@pytest.fixture(scope="module")
def facebook(tmp_path_factory, mic_port):
    with running("facebook", tmp_path_factory.mktemp("facebook"), "--var", f"MIC=http://127.0.0.1:{mic_port}") as mock:
        yield mock


def certify_run(tmp_path: Path, profile: str, mock: Mock, mic_port: int, declaration: str, **env: str) -> dict:
    """``mic-harness certify`` with the mock's URL and a declaration: certified, its cells by id."""
    (tmp_path / "declaration.yaml").write_text(f"mic_port: ${{MIC_PORT}}\n{declaration}")
    package = tmp_path / "package"
    done = subprocess.run([MIC_HARNESS, "certify", "--profile", profile, "--connector-url", mock.url,
                           "--connector", str(tmp_path / "declaration.yaml"), "--report", str(package)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "MIC_PORT": str(mic_port), **env})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    manifest = json.loads((package / certify.MANIFEST).read_text())
    assert manifest["verdict"] == "certified" and manifest["refusals"] == []
    assert manifest["target"]["upstream"]["url"] == mock.url  # the mock's process, not a fleet member
    required = [cell for cell in manifest["cells"] if cell["required"]]
    assert required and all(cell["outcome"] in ("passed", "warned") for cell in required), required
    for cell in manifest["cells"]:  # only what the harness cannot do through a vendor's URL is left out
        if not cell["applicable"]:
            assert UNCONTROLLED_UPSTREAM in cell["reason"], cell
    return {cell["id"]: cell for cell in manifest["cells"]}


def test_the_saml_idp_on_its_own_certifies_with_the_certificate_it_wrote(tmp_path, saml, mic_port):
    assert saml.line() == f"  entity id {saml.url}/saml/metadata\n"
    signing = saml.line()
    assert signing.endswith("certificate in mock-saml-idp.cert.pem (made now)\n"), signing
    certificate = (saml.cwd / "mock-saml-idp.cert.pem").read_text()  # PEM, as the declaration may give it
    cells = certify_run(tmp_path, "saml-connector", saml, mic_port, 'variables: {SAML_IDP_CERT: "${IDP_CERT}"}\n',
                        IDP_CERT=certificate)
    for binding in ("saml-redirect", "saml-post"):
        for driver in ("http", "browser"):
            assert cells[f"scenarios/saml/login.yaml::{binding}::{driver}"]["outcome"] == "passed"
    assert not cells["scenarios/saml/tampered/unsigned.yaml::saml-post::http"]["applicable"]


#: the MIC's client at the mock OpenID provider, as a vendor would declare it; oidc-mfa is left out, as
#: for any vendor: its every login takes a TOTP code, and a code serves once per 30 s on the provider's
#: clock, which the harness cannot move
OIDC_SERVICES = """services:
  oidc-code:
    provider:
      options: {issuerId: "${CONNECTOR_URL}", clientId: mic-oidc, clientSecret: "${OIDC_SECRET}",
                scope: profile email offline_access}
"""


def test_the_openid_provider_on_its_own_certifies(tmp_path, oidc, mic_port):
    cells = certify_run(tmp_path, "oidc-connector", oidc, mic_port, OIDC_SERVICES, OIDC_SECRET="mic-oidc-secret")
    for cell in ("scenarios/login/authorization-code.yaml::oidc-code::browser",
                 "scenarios/sso/idp-session.yaml::oidc-code::http",   # the provider's own session
                 "scenarios/refresh/rotation.yaml::oidc-code::http"):  # the MIC's refresh over the provider's
        assert cells[cell]["outcome"] == "passed", cells[cell]
    assert not any("::oidc-mfa::" in cell for cell in cells)
    assert not cells["scenarios/security/id-token/alg-none.yaml::oidc-code::http"]["applicable"]


def test_the_facebook_graph_api_on_its_own_certifies(tmp_path, facebook, mic_port):
    cells = certify_run(tmp_path, "facebook-connector", facebook, mic_port, "")
    assert cells["scenarios/login/authorization-code.yaml::facebook::browser"]["outcome"] == "passed"
    # the Facebook session outlasts the refresh TTL moved on the MIC's clock alone: warned, not refused
    assert [cell for cell, seen in cells.items() if seen["outcome"] == "warned"] == [
        "scenarios/facebook/refresh-and-relogin.yaml::facebook::http"]
    # without test mode the mock has no control surface, so nothing can revoke its tokens
    assert httpx2.get(f"{facebook.url}/_control/health").status_code == 404


def test_test_mode_serves_the_control_surface_on_a_virtual_clock_and_sigterm_stops_it(tmp_path):
    mock = Mock("saml", tmp_path, "--test-mode", "--var", "MIC=http://127.0.0.1:9")
    try:
        *_, control = mock.line(), mock.line(), mock.line()
        assert control == f"  control surface on {mock.url}/_control/\n"
        clock = httpx2.get(f"{mock.url}/_control/clock").json()
        assert clock["virtual"] is True
        moved = httpx2.post(f"{mock.url}/_control/clock", json={"advance": 86400}).json()
        assert moved["now"] >= clock["now"] + 86400
        assert "unsigned" in httpx2.get(f"{mock.url}/_control/tamper").json()["mutations"]
    finally:
        assert mock.stop() == 0  # SIGTERM: a clean stop, not a kill


def test_the_saml_idp_signs_with_a_key_and_certificate_it_is_given_and_refuses_a_mismatched_pair(tmp_path):
    given = generate_identity(tmp_path, "given", "a vendor's IdP")
    with running("saml", tmp_path, "--var", "MIC=http://127.0.0.1:9", "--key-file", given.key_file,
                 "--cert-file", given.cert_file) as mock:
        assert mock.line() == f"  entity id {mock.url}/saml/metadata\n"
        assert mock.line().endswith("(as found)\n")
        metadata = httpx2.get(f"{mock.url}/saml/metadata").text
        assert given.cert_base64 in metadata
    other = generate_identity(tmp_path, "other", "another key")
    done = subprocess.run([sys.executable, "-m", "mock_idps.saml", "--var", "MIC=http://127.0.0.1:9",
                           "--key-file", other.key_file, "--cert-file", given.cert_file],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{given.cert_file} is not the certificate of the key in {other.key_file}" in done.stderr


@pytest.mark.parametrize("name, args, complaint", [
    ("oidc", ["--var", "MIC=http://127.0.0.1:9"],
     r"oidc/fixture\.yaml:\d+:\d+: unknown variable \$\{APP\} \(known: MIC\)"),
    ("facebook", ["--var", "MIC"], "argument --var: expected NAME=VALUE, not 'MIC'"),
    ("saml", ["--var", "MIC=http://127.0.0.1:9", "--key-file", "missing.pem"],
     "mock-saml-idp.cert.pem exists but missing.pem does not"),
])
def test_what_a_mock_cannot_start_with_is_named_without_a_traceback(tmp_path, name, args, complaint):
    (tmp_path / "mock-saml-idp.cert.pem").write_text("a certificate whose key went missing")
    done = subprocess.run([sys.executable, "-m", f"mock_idps.{name}", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert re.search(complaint, done.stderr), done.stderr
