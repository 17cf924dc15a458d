"""Benchmark: the reference MIC's token endpoint under load, and BaaS token validation.

    .venv/bin/python bench/mic.py [--seconds 5] [--clients 16]

Token endpoint: password grants (MIC -> mock OAuth2 IdP token and user endpoints)
from N concurrent clients for a fixed time, on loopback. Validation: the in-process
check the BaaS makes for every backend call (vault lookup, decryption, expiry).
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time

import httpx2

from harness.fleet import EmbeddedFleet
from mic_reference.validation import validate
from mic_reference.vault import digest

SERVICE = "kid_demo.oauth2-password"


def token_endpoint(fleet: EmbeddedFleet, seconds: float, clients: int) -> tuple[int, int, list[float]]:
    target = fleet.target
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal failures
        with httpx2.Client(timeout=30) as http:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                response = http.post(f"{target.mic}/v3/oauth/token", auth=(SERVICE, target.app_secret), data={
                    "grant_type": "password", "username": "alice", "password": "wonderland"})
                with lock:
                    latencies.append(time.perf_counter() - began)
                    failures += response.status_code != 200

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), failures, latencies


def validation(fleet: EmbeddedFleet, samples: int) -> list[float]:
    target = fleet.target
    token = httpx2.post(f"{target.mic}/v3/oauth/token", auth=(SERVICE, target.app_secret), data={
        "grant_type": "password", "username": "alice", "password": "wonderland"}).json()["access_token"]
    mic = fleet.fleet.app("mic").extensions["mic"]
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        assert validate(mic.vault, mic.clients, digest(token)) is not None
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    with EmbeddedFleet() as fleet:
        count, failures, latencies = token_endpoint(fleet, args.seconds, args.clients)
        print(f"token endpoint, password grant, {args.clients} clients for {args.seconds:g} s:")
        print(f"  {count / args.seconds:7.1f} requests/s   median {statistics.median(latencies) * 1000:6.1f} ms   "
              f"p95 {statistics.quantiles(latencies, n=20)[18] * 1000:6.1f} ms   failures {failures}")
        times = validation(fleet, args.samples)
        print(f"BaaS validation of a MIC token, {args.samples} samples:")
        print(f"  median {statistics.median(times) * 1000:6.3f} ms   p95 {statistics.quantiles(times, n=20)[18] * 1000:6.3f} ms")


if __name__ == "__main__":
    main()
