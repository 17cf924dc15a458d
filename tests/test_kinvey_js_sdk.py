"""Acceptance by a real client: the published kinvey-js-sdk 7, unchanged, against the reference MIC.

Its HTTP adapter only rewrites the SDK's hard-coded Kinvey hosts to the fleet; the
popup is headless. Skipped, with the reason, where node or npm is missing.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from node import installed

SDK_DIR = Path(__file__).parent / "sdk"


@pytest.fixture(scope="module")
def sdk():
    return installed(SDK_DIR, "kinvey-js-sdk")


def test_the_kinvey_js_sdk_logs_in_refreshes_and_logs_out(sdk, fleet):
    target = fleet.target
    env = {**os.environ, "MIC_URL": target.mic, "MIC_CONTROL_URL": target.surfaces["mic"],
           "APP_KEY": target.app_key, "APP_SECRET": target.app_secret, "REDIRECT_URI": target.redirect_uri,
           "TEST_USERNAME": "alice", "TEST_PASSWORD": target.password_of("alice"),
           "PASSWORD_SERVICE": "oauth2-password", "CODE_SERVICE": "oauth2-code"}
    run = subprocess.run([sdk, str(SDK_DIR / "kinvey_js_sdk.js")], env=env, capture_output=True, text=True,
                         timeout=120)
    result = json.loads(run.stdout or "{}")
    assert run.returncode == 0, (result, run.stderr[-2000:])
    # loginWithMICUsingResourceOwnerCredentials: password grant, then the backend session
    assert result["ropc"]["socialIdentity"] == "u-alice" and result["ropc"]["data"] == []
    assert result["afterLogout"] is True
    # loginWithMIC: the popup completes the upstream login page; the SDK redeems the code
    assert result["code"]["socialIdentity"] == "u-alice"
    assert result["code"]["calls"] == ["POST /v3/oauth/token", f"POST /user/{target.app_key}/login"]
    # a data call after the MIC token expired: 401 InvalidCredentials, refresh, login again, retry
    assert result["afterExpiry"]["data"] == []
    assert result["afterExpiry"]["calls"] == [
        f"GET /appdata/{target.app_key}/books", "POST /oauth/token", f"POST /user/{target.app_key}/login",
        f"GET /appdata/{target.app_key}/books"]
    assert result["loggedOut"] is True
