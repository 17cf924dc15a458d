"""Killing the MIC process between issuing and refreshing a token loses nothing."""
import os
import signal
import socket
import subprocess
import sys

import httpx2
import pytest

from mic_reference.vault import Keyring
from mock_idps import oauth2 as oauth2_idp
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def idp_and_mic_port():
    port = free_port()
    fleet = Fleet()
    fleet.add("idp", lambda urls: oauth2_idp.create_app(clock=VirtualClock(), test_mode=True,
                                                         variables={"MIC": f"http://127.0.0.1:{port}"}))
    with fleet:
        yield fleet.urls["idp"], port


def start_mic(port, idp, database, keys):
    process = subprocess.Popen(
        [sys.executable, "-m", "mic_reference", "--port", str(port), "--var", f"OAUTH2_IDP={idp}",
         "--var", "APP=http://app.test", "--database-url", database],
        env={**os.environ, "MIC_VAULT_KEYS": keys}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("reference MIC on"), process.stderr.read()
    return process


def test_a_killed_and_restarted_mic_still_refreshes(tmp_path, idp_and_mic_port):
    idp, port = idp_and_mic_port
    database, keys = f"sqlite:///{tmp_path / 'vault.sqlite3'}", Keyring.generate().spec()
    mic, auth = f"http://127.0.0.1:{port}", ("kid_demo", "demo-app-secret")
    first = start_mic(port, idp, database, keys)
    try:
        login = httpx2.get(f"{mic}/v3/oauth/auth", params={
            "client_id": "kid_demo", "redirect_uri": "http://app.test/callback", "response_type": "code"})
        upstream = httpx2.post(login.headers["location"], data={"username": "alice", "password": "wonderland"})
        landing = httpx2.get(upstream.headers["location"])
        code = httpx2.URL(landing.headers["location"]).params["code"]
        tokens = httpx2.post(f"{mic}/v3/oauth/token", auth=auth, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": "http://app.test/callback"}).json()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    second = start_mic(port, idp, database, keys)
    try:
        refreshed = httpx2.post(f"{mic}/oauth/token", auth=auth, data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "redirect_uri": "undefined"})
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["access_token"] != tokens["access_token"]
    finally:
        second.terminate()
        second.wait(timeout=10)


def test_a_broken_configuration_stops_the_mic_with_a_message_not_a_traceback(tmp_path):
    config = tmp_path / "mic.yaml"
    config.write_text("organizations:\n  - id: x\n    apps: []\n    colour: blue\n")
    done = subprocess.run([sys.executable, "-m", "mic_reference", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{config}:4:5: unknown key 'colour'" in done.stderr and "Traceback" not in done.stderr
