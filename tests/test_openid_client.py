"""Independent proof: openid-client (npm), a certified OpenID relying party none of our code
wrote, completes discovery, the code flow with PKCE and a nonce, userinfo and refresh
against the mock OpenID provider. Skipped, with the reason, where node or npm is missing."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from mock_idps import oidc
from node import installed
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet

CLIENT_DIR = Path(__file__).parent / "openid_client"


@pytest.fixture(scope="module")
def node():
    return installed(CLIENT_DIR, "openid-client")


def test_openid_client_logs_in_reads_userinfo_and_refreshes(node):
    fleet = Fleet()
    fleet.add("op", lambda urls: oidc.create_app(clock=VirtualClock(), test_mode=True,
                                                 variables={"MIC": "http://mic.invalid", "APP": "http://app.invalid"}))
    issuer = fleet.start()["op"]
    try:
        env = {**os.environ, "ISSUER": issuer, "CLIENT_ID": "conformance", "CLIENT_SECRET": "conformance-secret",
               "REDIRECT_URI": "http://app.invalid/callback", "TEST_USERNAME": "alice", "TEST_PASSWORD": "wonderland"}
        run = subprocess.run([node, str(CLIENT_DIR / "openid_client.js")], env=env, capture_output=True, text=True,
                             timeout=60)
    finally:
        fleet.stop()
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result == {"issuer": issuer, "sub": "u-alice", "nonce": True, "email": "alice@example.com",
                      "rotated": True, "refreshedSub": "u-alice", "reuse": "invalid_grant"}
