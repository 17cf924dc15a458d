"""The MIC served from several processes (``--workers``) beside the mock run on its own, as bench/mic.py runs them.

The workers share nothing but the vault's database: a login started at one is finished
at whichever serves the next request.
"""
import os
import socket
import subprocess
import sys
import time

import httpx2
import pytest

from mic_reference.vault import Keyring

AUTH = ("kid_demo", "demo-app-secret")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args, banner, env=None):
    process = subprocess.Popen([sys.executable, *args], env={**os.environ, **(env or {})},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith(banner), process.stderr.read()
    return process


def wait_until_answering(url):
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx2.get(url, timeout=1)
        except httpx2.TransportError:
            assert time.monotonic() < deadline, f"nothing answers at {url}"
            time.sleep(0.05)


@pytest.fixture
def mic_of_two_processes(tmp_path):
    mic_port, idp_port = free_port(), free_port()
    mic, idp = f"http://127.0.0.1:{mic_port}", f"http://127.0.0.1:{idp_port}"
    processes = [start(["-m", "mock_idps.oauth2", "--port", str(idp_port), "--var", f"MIC={mic}"],
                       "mock OAuth2 provider on")]
    try:
        processes.append(start(
            ["-m", "mic_reference", "--workers", "2", "--port", str(mic_port), "--var", f"OAUTH2_IDP={idp}",
             "--var", "APP=http://app.test", "--database-url", f"sqlite:///{tmp_path / 'vault.sqlite3'}"],
            "reference MIC on", env={"MIC_VAULT_KEYS": Keyring.generate().spec()}))
        wait_until_answering(idp)
        wait_until_answering(mic)
        yield mic
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def test_password_grants_and_a_code_flow_across_worker_processes(mic_of_two_processes):
    mic = mic_of_two_processes
    # each call on a new connection, so that both workers serve some
    tokens = [httpx2.post(f"{mic}/v3/oauth/token", auth=(f"{AUTH[0]}.oauth2-password", AUTH[1]), data={
        "grant_type": "password", "username": "alice", "password": "wonderland"}) for _ in range(10)]
    assert [t.status_code for t in tokens] == [200] * 10
    assert len({t.json()["access_token"] for t in tokens}) == 10

    login = httpx2.get(f"{mic}/v3/oauth/auth", params={
        "client_id": AUTH[0], "redirect_uri": "http://app.test/callback", "response_type": "code"})
    upstream = httpx2.post(login.headers["location"], data={"username": "alice", "password": "wonderland"})
    landing = httpx2.get(upstream.headers["location"])
    code = httpx2.URL(landing.headers["location"]).params["code"]
    redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://app.test/callback"}
    first = httpx2.post(f"{mic}/v3/oauth/token", auth=AUTH, data=redeem)
    assert first.status_code == 200, first.text
    refreshed = httpx2.post(f"{mic}/v3/oauth/token", auth=AUTH, data={
        "grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    # a code serves once, whichever worker sees it again
    assert httpx2.post(f"{mic}/v3/oauth/token", auth=AUTH, data=redeem).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("args, message", [
    (["--test-mode"], "--test-mode needs one process"),
    (["--database-url", "sqlite://"], "an in-memory vault lives in one process"),
])
def test_workers_refuse_what_would_split_between_processes(args, message):
    done = subprocess.run(
        [sys.executable, "-m", "mic_reference", "--workers", "2", "--port", str(free_port()),
         "--var", "OAUTH2_IDP=http://idp.test", "--var", "APP=http://app.test", *args],
        env={**os.environ, "MIC_VAULT_KEYS": Keyring.generate().spec()}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_broken_fixture_stops_the_mock_with_a_message(tmp_path):
    fixture = tmp_path / "fixture.yaml"
    fixture.write_text("clients: []\nusers: []\ncolour: blue\n")
    done = subprocess.run([sys.executable, "-m", "mock_idps.oauth2", "--fixture", str(fixture)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{fixture}:3:1" in done.stderr and "Traceback" not in done.stderr
