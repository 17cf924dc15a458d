"""A vendor's upstream by URL: the reference MIC brokers to their server in place of a bundled mock.

The "vendor" here is the mock OAuth2 provider served on its own, outside the harness's
fleet: nothing of it is in-process with the MIC, and the harness reaches it only by URL.
"""
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness import certify, profiles, upstream
from harness.fleet import planned_target
from mock_idps import oauth2 as oauth2_idp
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet

ROOT = Path(__file__).resolve().parent.parent
MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def vendor():
    """A third party's OAuth2 provider that knows the MIC only by the port it was told."""
    mic_port = _free_port()
    fleet = Fleet()
    fleet.add("vendor", lambda urls: oauth2_idp.create_app(
        clock=VirtualClock(), variables={"MIC": f"http://127.0.0.1:{mic_port}"}))
    urls = fleet.start()
    yield urls["vendor"], mic_port
    fleet.stop()


def _certify(tmp_path, vendor, declaration: str):
    url, mic_port = vendor
    (tmp_path / "vendor.yaml").write_text(f"mic_port: {mic_port}\n{declaration}")
    package = tmp_path / "package"
    done = subprocess.run([MIC_HARNESS, "certify", "--profile", "oauth2-connector", "--service", "oauth2-code",
                           "--connector-url", url, "--connector", str(tmp_path / "vendor.yaml"),
                           "--report", str(package)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    manifest = json.loads((package / certify.MANIFEST).read_text()) if (package / certify.MANIFEST).exists() else None
    return done, manifest


def test_a_vendors_provider_certifies_by_url_and_its_uncontrollable_cells_are_not_applicable(tmp_path, vendor):
    done, manifest = _certify(tmp_path, vendor, "users: {alice: {password: wonderland}}\n")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert manifest["verdict"] == "certified"
    assert manifest["target"]["upstream"] == {"replaces": "oauth2-idp", "url": vendor[0]}
    cells = {c["id"]: c for c in manifest["cells"]}
    assert cells["scenarios/login/authorization-code.yaml::oauth2-code::browser"]["outcome"] == "passed"
    faulted = cells["scenarios/refresh/upstream.yaml::oauth2-code::http"]
    assert faulted["outcome"] == "skipped" and faulted["applicable"] is False and faulted["required"] is False
    assert "wonderland" not in json.dumps(manifest)


def test_a_vendors_provider_that_refuses_the_declared_users_is_not_certified(tmp_path, vendor):
    done, manifest = _certify(tmp_path, vendor, "users: {alice: {password: not-what-the-vendor-has}}\n")
    assert done.returncode == 1
    assert manifest["verdict"] == "refused"
    assert any("login/authorization-code.yaml::oauth2-code" in r for r in manifest["refusals"])


def test_the_vendors_server_replaces_the_mock_and_takes_its_services_only():
    vendor = upstream.load(("ldap", "ad"), "ldaps://directory.example.com:636", None)
    target = planned_target(vendor)
    assert {s.upstream for s in target.services.values()} == {"ldap"}
    assert "ldap" not in target.surfaces and "mic" in target.surfaces and target.clocks == ("mic",)


def test_a_declaration_can_choose_among_the_profiles_upstreams_and_gives_users_and_login(tmp_path):
    path = tmp_path / "ad.yaml"
    path.write_text("url: ldaps://ad.example.com\nreplaces: ad\nusers: {alice: {password: s3cret}}\n"
                    "login: {username: user, password: pass, submit: '#go'}\n")
    vendor = upstream.load(("ldap", "ad"), None, str(path))
    target = planned_target(vendor)
    assert {s.upstream for s in target.services.values()} == {"ad"}
    assert target.password_of("alice") == "s3cret"
    assert {s.login.submit for s in target.services.values()} == {"#go"}
    assert "ad" not in target.surfaces


@pytest.mark.parametrize("members, url, text, complaint", [
    ((), "http://idp.example.com", None, "no upstream a vendor's server can replace"),
    (("oauth2-idp",), None, None, "--connector-url URL"),
    (("ldap", "ad"), None, "url: ldap://x\nreplaces: oauth2-idp\n", "'oauth2-idp' is not an upstream of this profile"),
    (("ldap",), None, "url: ftp://x\n", "does not match"),
])
def test_a_vendor_upstream_that_cannot_be_used_says_why(tmp_path, members, url, text, complaint):
    path = None
    if text is not None:
        path = tmp_path / "vendor.yaml"
        path.write_text(text)
    with pytest.raises(Exception) as raised:
        upstream.load(members, url, str(path) if path else None)
    assert complaint in str(raised.value)


def test_connector_url_without_a_connector_profile_is_a_usage_error():
    done = subprocess.run([MIC_HARNESS, "run", "--connector-url", "http://idp.example.com", "scenarios/login"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 4
    assert "need --mic-profile" in done.stderr + done.stdout


def test_every_profile_is_listed_with_what_a_vendor_url_replaces():
    done = subprocess.run([MIC_HARNESS, "list", "--profiles"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in profiles.available():
        assert any(line.startswith(name) for line in done.stdout.splitlines()), name
    assert "oauth2-connector (connectors: oauth2; --connector-url replaces: oauth2-idp)" in done.stdout
