"""Benchmark: the reference MIC's token endpoint under load, and BaaS token validation.

    .venv/bin/python bench/mic.py [--seconds 5] [--clients 16] [--workers 2] [--warmup 1]

Token endpoint: password grants (MIC -> mock OAuth2 IdP token and user endpoints)
from N concurrent clients for a fixed time, over loopback HTTP. The servers run as
they would be deployed, each in processes of its own: the MIC as
``python -m mic_reference --workers W`` on a SQLite vault, the mock as
``python -m mock_idps.oauth2``; the clients run in this process, and time the grants
after a warm-up. (The embedded fleet serves everything from one process, where the
GIL caps it near 130 grants/s.)
Validation: the in-process check the BaaS makes for every backend call (vault lookup,
decryption, expiry), on the vault the MIC wrote.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import httpx2

import mic_reference
from harness import target as targets
from harness.fleet import planned_target
from mic_reference.validation import validate
from mic_reference.vault import Keyring, digest

SERVICE = "kid_demo.oauth2-password"
USER = "alice"
STARTUP_TIMEOUT = 30.0


def token_endpoint(target: targets.Target, seconds: float, clients: int) -> tuple[float, int, list[float]]:
    """Grants per second (over the time until the last one answered), failures, and each grant's latency."""
    started = time.monotonic()
    deadline = started + seconds
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal failures
        with httpx2.Client(timeout=30) as http:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                response = http.post(f"{target.mic}/v3/oauth/token", auth=(SERVICE, target.app_secret), data={
                    "grant_type": "password", "username": USER, "password": target.password_of(USER)})
                with lock:
                    latencies.append(time.perf_counter() - began)
                    failures += response.status_code != 200

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.monotonic() - started), failures, latencies


def validation(target: targets.Target, mic: mic_reference.Flask, samples: int) -> list[float]:
    token = httpx2.post(f"{target.mic}/v3/oauth/token", auth=(SERVICE, target.app_secret), data={
        "grant_type": "password", "username": USER, "password": target.password_of(USER)}).json()["access_token"]
    state = mic.extensions["mic"]
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        assert validate(state.vault, state.clients, digest(token)) is not None
        times.append(time.perf_counter() - began)
    return times


@contextmanager
def servers(workers: int) -> Iterator[tuple[targets.Target, mic_reference.Flask]]:
    """The MIC and the mock, each started as its own processes; and the MIC's app, built here on its vault."""
    mic_port, idp_port = _free_port(), _free_port()
    variables = {"MIC": f"http://127.0.0.1:{mic_port}", "OAUTH2_IDP": f"http://127.0.0.1:{idp_port}",
                 "APP": "http://app.invalid"}
    keys = Keyring.generate().spec()
    with tempfile.TemporaryDirectory(prefix="mic-bench-") as workdir, ExitStack() as stack:
        database = f"sqlite:///{Path(workdir) / 'mic-vault.sqlite3'}"
        stack.enter_context(_process("mock", [
            "-m", "mock_idps.oauth2", "--port", str(idp_port), "--var", f"MIC={variables['MIC']}"],
            variables["OAUTH2_IDP"], workdir))
        stack.enter_context(_process("mic", [
            "-m", "mic_reference", "--workers", str(workers), "--port", str(mic_port), "--database-url", database,
            "--var", f"OAUTH2_IDP={variables['OAUTH2_IDP']}", "--var", f"APP={variables['APP']}"],
            variables["MIC"], workdir, env={"MIC_VAULT_KEYS": keys}))
        mic = mic_reference.create_app(variables=variables, database_url=database, vault_keys=keys)
        try:
            # the embedded target's app and users, at this MIC
            yield targets.narrowed(planned_target(), mic=variables["MIC"]), mic
        finally:
            mic.extensions["mic"].vault.close()


@contextmanager
def _process(name: str, args: list[str], url: str, workdir: str, env: dict[str, str] | None = None) -> Iterator[None]:
    """A server process, once it answers at ``url``; its output goes to a log, shown if it fails to start."""
    log_path = Path(workdir) / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, *args], stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, cwd=Path(__file__).resolve().parent.parent)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                httpx2.get(url, timeout=1)  # any answer will do
                break
            except httpx2.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n{log_path.read_text()}") from None
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="MIC processes (default: one a core)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before the timed ones")
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    with servers(args.workers) as (target, mic):
        # untimed: each worker process's first requests (lazy imports, cold caches); its failures count
        _, warmup_failures, _ = token_endpoint(target, args.warmup, args.clients)
        rate, failures, latencies = token_endpoint(target, args.seconds, args.clients)
        failures += warmup_failures
        print(f"token endpoint, password grant, {args.clients} clients for {args.seconds:g} s "
              f"(MIC: {args.workers} processes):")
        print(f"  {rate:7.1f} requests/s   median {statistics.median(latencies) * 1000:6.1f} ms   "
              f"p95 {statistics.quantiles(latencies, n=20)[18] * 1000:6.1f} ms   failures {failures}")
        times = validation(target, mic, args.samples)
        print(f"BaaS validation of a MIC token, {args.samples} samples:")
        print(f"  median {statistics.median(times) * 1000:6.3f} ms   "
              f"p95 {statistics.quantiles(times, n=20)[18] * 1000:6.3f} ms")


if __name__ == "__main__":
    main()
