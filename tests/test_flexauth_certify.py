"""Certifying a vendor's custom auth service: the sample, run on its own, certifies; a broken copy does not."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from flexauth_process import ROOT, running
from harness import certify

MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))
KEY = "vendor-shared-key"
#: what the vendor declares: the handler and key the MIC is configured with, and the test users
DECLARATION = {"variables": {"FLEXAUTH_HANDLER": "vendorauth", "FLEXAUTH_AUTH_KEY": KEY},
               "users": {"alice": {"password": "wonderland"}, "bob": {"password": "builder"},
                         "Zoë-日本": {"password": "ünïcødé-pässwörd"}, "carol": {"password": "lookingglass"}}}
#: the sample with a deliberate bug, as a vendor might ship it: a known name is enough, whatever the password
BROKEN = '''
import json
import sys
from contextlib import closing

from samples.flexauth_service import __main__ as service, users


def any_password(store, username, password):
    with closing(store._connect()) as db:
        row = db.execute("SELECT username, mfa_required, attributes FROM users WHERE username = ?",
                         (users.normalized(username),)).fetchone()
    return None if row is None else users.User(row[0], bool(row[1]), json.loads(row[2]))


users.UserStore.check = any_password
sys.exit(service.main())
'''


@pytest.fixture
def declaration(tmp_path):
    path = tmp_path / "vendor.yaml"
    path.write_text(json.dumps(DECLARATION))  # JSON is YAML
    return path


def certify_run(url: str, declaration: Path, package: Path) -> subprocess.CompletedProcess:
    return subprocess.run([MIC_HARNESS, "certify", "--profile", "flexauth-connector", "--connector-url", url,
                           "--connector", str(declaration), "--report", str(package)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def service_args(tmp_path: Path) -> list[str]:
    return ["--handler", "vendorauth", "--database", str(tmp_path / "users.sqlite3"), "--demo-users"]


def test_the_sample_service_certifies(tmp_path, declaration):
    with running(["-m", "samples.flexauth_service", *service_args(tmp_path)], KEY) as url:
        done = certify_run(url, declaration, tmp_path / "package")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    manifest = json.loads((tmp_path / "package" / certify.MANIFEST).read_text())
    assert manifest["verdict"] == "certified" and manifest["refusals"] == []
    ids = {cell["id"] for cell in manifest["cells"]}
    # the vendor's service behind the gate: the fault, log and direct-contract cells ran, none skipped
    for scenario in ("timeout", "outage", "auth-key", "malformed", "oversized", "concurrent", "mfa"):
        assert f"scenarios/flexauth/{scenario}.yaml::flexauth-password::http" in ids
    assert all(cell["outcome"] == "passed" for cell in manifest["cells"]), manifest["cells"]
    assert KEY not in (tmp_path / "package" / certify.MANIFEST).read_text()


def test_a_copy_that_takes_any_password_is_refused(tmp_path, declaration):
    broken = tmp_path / "broken_service.py"
    broken.write_text(BROKEN)
    with running([str(broken), *service_args(tmp_path)], KEY) as url:
        done = certify_run(url, declaration, tmp_path / "package")
    assert done.returncode != 0
    manifest = json.loads((tmp_path / "package" / certify.MANIFEST).read_text())
    assert manifest["verdict"] == "refused"
    refused = "\n".join(manifest["refusals"])
    for cell in ("scenarios/flexauth/refusals.yaml::flexauth-password::http",
                 "scenarios/login/password-grant.yaml::flexauth-password::http",
                 "scenarios/login/temp-login-uri.yaml::flexauth-password::http"):
        assert cell in refused and cell in done.stdout
    assert "scenarios/flexauth/auth-key.yaml" not in refused  # what it still does right is not held against it
