"""Benchmark: the mock OpenID provider's code round, and HTTP-only OpenID Connect scenarios.

    .venv/bin/python bench/oidc.py [--rounds 300] [--runs 30]

A round is what a relying party does for one login over HTTP on loopback: the
authorization request with the login form posted (302 with a code), the code redeemed
at the token endpoint (an RS256 id_token signed), and userinfo read. Scenario times are
per matrix cell on the embedded fleet's oidc-code service, the fleet already up.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["scenarios/ttl/code.yaml", "scenarios/refresh/rotation.yaml", "scenarios/security/id-token/wrong-aud.yaml",
             "scenarios/provider/code-pkce-nonce.yaml"]


def provider_rounds(rounds: int) -> list[float]:
    from mock_idps import oidc
    from plumbing.clock import VirtualClock
    from plumbing.fleet import Fleet

    fleet = Fleet()
    fleet.add("op", lambda urls: oidc.create_app(clock=VirtualClock(), test_mode=True,
                                                 variables={"MIC": "http://mic.invalid", "APP": "http://app.invalid"}))
    base = fleet.start()["op"]
    query = {"client_id": "conformance", "response_type": "code", "redirect_uri": "http://app.invalid/callback",
             "scope": "openid email", "nonce": "n", "state": "s"}
    times = []
    try:
        with httpx2.Client(follow_redirects=False) as http:
            for _ in range(rounds + 20):
                began = time.perf_counter()
                login = http.post(f"{base}/authorize", params=query, data={"username": "alice", "password": "wonderland"})
                code = parse_qs(urlsplit(login.headers["location"]).query)["code"][0]
                tokens = http.post(f"{base}/token", auth=("conformance", "conformance-secret"), data={
                    "grant_type": "authorization_code", "code": code, "redirect_uri": query["redirect_uri"]}).json()
                info = http.get(f"{base}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
                assert info.status_code == 200 and tokens["id_token"]
                times.append(time.perf_counter() - began)
    finally:
        fleet.stop()
    return times[20:]  # the first rounds warm connections and caches


def scenario_medians(runs: int) -> list[tuple[str, float]]:
    from harness import scenario as scenarios
    from harness.fleet import EmbeddedFleet
    from harness.runner import Runner

    from cells import run_times

    rows = []
    with EmbeddedFleet() as fleet:
        runner = Runner(fleet.target)
        try:
            for path in SCENARIOS:
                for cell in scenarios.cells(scenarios.load(ROOT / path), fleet.target):
                    if cell.driver != "http" or cell.service not in ("oidc-code", "oidc-provider"):
                        continue
                    _, times = run_times(runner, cell, runs)
                    rows.append((f"{path}::{cell.id}", statistics.median(times)))
        finally:
            runner.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    rounds = provider_rounds(args.rounds)
    print(f"mock OpenID provider, authorization code + token + userinfo over HTTP, {args.rounds} rounds:")
    print(f"  median {statistics.median(rounds) * 1000:.2f} ms   p90 "
          f"{statistics.quantiles(rounds, n=10)[-1] * 1000:.2f} ms   (target: under 10 ms median)")
    print(f"HTTP-only scenario cells, median of {args.runs} runs (target: under 60 ms):")
    for name, median in scenario_medians(args.runs):
        print(f"  {median * 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
