"""The whole fleet over HTTPS with a throwaway CA: trusted only where told, cookies Secure."""
import json
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from harness.drivers.browser import BrowserSession
from harness.fleet import EmbeddedFleet
from plumbing.tls import LocalTLS


@pytest.fixture(scope="module")
def tls_fleet():
    tls = LocalTLS()
    with EmbeddedFleet(tls=tls) as fleet:
        yield fleet, tls


def test_every_server_speaks_https_and_only_the_local_ca_is_trusted(tls_fleet):
    fleet, tls = tls_fleet
    assert all(url.startswith("https://127.0.0.1:") for name, url in fleet.urls.items() if name not in ("ldap", "ad"))
    # the directories: LDAP with StartTLS, and LDAPS
    assert fleet.urls["ldap"].startswith("ldap://") and fleet.urls["ad"].startswith("ldaps://")
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(fleet.urls["mic"] + "/_control/clock")  # the system trust store does not know the CA
    assert httpx2.get(fleet.urls["mic"] + "/_control/clock", verify=tls.client_context()).status_code == 200


def test_the_login_pages_cookie_is_secure_over_https(tls_fleet):
    fleet, tls = tls_fleet
    target = fleet.target
    page = httpx2.get(f"{target.mic}/v3/oauth/auth", verify=tls.client_context(), params={
        "client_id": "kid_demo.oauth2-password", "redirect_uri": target.redirect_uri, "response_type": "code"})
    cookie = page.headers["set-cookie"]
    assert "mic_login_csrf=" in cookie and "Secure" in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize("pinned", [True, False])
def test_chromium_accepts_exactly_the_pinned_certificate(tls_fleet, pinned):
    fleet, tls = tls_fleet
    browsers = BrowserSession(trusted_spki=tls.spki_pin() if pinned else None)
    try:
        driver = browsers.driver(fleet.target.redirect_uri)
        if pinned:
            assert driver.open(fleet.urls["app"] + "/callback?code=x").text.startswith("Signed in")
        else:
            with pytest.raises(Exception, match="ERR_CERT"):
                driver.open(fleet.urls["app"] + "/callback?code=x")
        driver.close()
    finally:
        browsers.close()


def test_every_bundled_scenario_passes_the_same_way_over_https(tmp_path):
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([str(Path(sys.executable).with_name("mic-harness")), "run", str(root / "scenarios"),
                           "--tls", "--report", str(tmp_path)], capture_output=True, text=True, timeout=300)
    summary = json.loads((tmp_path / "results.json").read_text())["summary"]
    assert done.returncode == 0, done.stdout[-3000:]
    assert summary["failed"] == 0 and summary["passed"] == summary["total"] > 20
