"""Benchmark: password grants through the LDAP and Active Directory connectors.

    .venv/bin/python bench/ldap.py [--runs 50] [--grants 200] [--clients 16]

With the embedded fleet up (the MIC, and the mock directories on the reactor thread,
all in this process): the median wall time of the password-grant scenario's cell on
each directory service (target: under 30 ms on LDAP), and a burst of password grants
from N concurrent clients (target: 200 grants, 16 clients, no error), with the
directory's own share read from its request log (binds and searches it answered).
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

import httpx2

from harness import scenario as scenarios
from harness.fleet import EmbeddedFleet
from harness.runner import Runner

from cells import run_times

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "login" / "password-grant.yaml"
SERVICES = ("ldap-password", "ad-password")


def scenario_times(fleet: EmbeddedFleet, service: str, runs: int) -> list[float]:
    """The password-grant cell's wall time on one service, ``runs`` times (after one untimed run)."""
    runner = Runner(fleet.target)
    try:
        cell = next(c for c in scenarios.cells(scenarios.load(SCENARIO), fleet.target) if c.service == service)
        return run_times(runner, cell, runs)[1]
    finally:
        runner.close()


def burst(fleet: EmbeddedFleet, service: str, grants: int, clients: int) -> tuple[float, list[float], dict[int, int]]:
    """``grants`` password grants shared by ``clients`` threads: elapsed seconds, latencies, answers by status."""
    target = fleet.target
    client_id = target.services[service].client_id(target.app_key)
    remaining = iter(range(grants))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def worker() -> None:
        with httpx2.Client(timeout=30) as http:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                began = time.perf_counter()
                response = http.post(f"{target.mic}/v3/oauth/token", auth=(client_id, target.app_secret), data={
                    "grant_type": "password", "username": "alice", "password": target.password_of("alice")})
                with lock:
                    latencies.append(time.perf_counter() - began)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def directory_log(fleet: EmbeddedFleet, service: str) -> dict[str, int]:
    surface = fleet.target.surfaces[fleet.target.services[service].upstream]
    entries = httpx2.get(f"{surface}/_control/requests").json()["requests"]
    counts: dict[str, int] = {}
    for entry in entries:
        key = f"{entry['path'][1:]} {entry['status']}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--grants", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with EmbeddedFleet() as fleet:
        print(f"password-grant scenario cell, median of {args.runs} runs (target: under 30 ms on LDAP):")
        for service in SERVICES:
            times = scenario_times(fleet, service, args.runs)
            print(f"  {service:14s} median {statistics.median(times) * 1000:6.1f} ms   "
                  f"p95 {statistics.quantiles(times, n=20)[18] * 1000:6.1f} ms")
        print(f"{args.grants} password grants from {args.clients} concurrent clients (target: no error):")
        for service in SERVICES:
            surface = fleet.target.surfaces[fleet.target.services[service].upstream]
            httpx2.delete(f"{surface}/_control/requests")
            elapsed, latencies, statuses = burst(fleet, service, args.grants, args.clients)
            errors = sum(count for status, count in statuses.items() if status != 200)
            print(f"  {service:14s} {len(latencies) / elapsed:6.1f} grants/s   "
                  f"median {statistics.median(latencies) * 1000:6.1f} ms   "
                  f"p95 {statistics.quantiles(latencies, n=20)[18] * 1000:6.1f} ms   errors {errors}   "
                  f"answers {dict(sorted(statuses.items()))}")
            print(f"  {'':14s} the directory answered: {dict(sorted(directory_log(fleet, service).items()))}")


if __name__ == "__main__":
    main()
