"""Benchmark: what the harness itself costs, apart from the servers it waits on.

    .venv/bin/python bench/scenarios.py [--rounds 30]

Validation: every bundled scenario file schema-checked, in a fresh interpreter (the
command a person runs) and in-process. Overhead: HTTP-only cells run on the embedded
fleet; the time its HTTP clients spend in round trips is what the harness waits on, and
the rest of the cell (steps, rendering, parsing pages, checking expectations) is its own.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from harness import scenario as scenarios
from harness.fleet import EmbeddedFleet
from harness.recording import USER_AGENT
from harness.runner import Runner

ROOT = Path(__file__).resolve().parent.parent
CELLS = [("login/password-grant.yaml", "oauth2-password"), ("refresh/rotation.yaml", "oauth2-code"),
         ("ttl/token.yaml", "oauth2-code"), ("security/tampered-artifacts.yaml", "oauth2-code")]


def validation() -> tuple[float, float, int]:
    files = sorted((ROOT / "scenarios").rglob("*.yaml"))
    began = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("mic-harness")), "validate", str(ROOT / "scenarios")],
                   check=True, capture_output=True)
    fresh = time.perf_counter() - began
    began = time.perf_counter()
    for path in files:
        scenarios.load(path)
    return fresh, time.perf_counter() - began, len(files)


class ServerTime:
    """Adds up the time the harness's clients spend in round trips (send, reading the answer
    included): what it waits on, its ``/_control/`` calls (moving a clock) included. The
    MIC's own upstream calls (same process, another User-Agent) happen inside those."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._send = httpx2.Client.send
        timer = self

        def timed(client, request, **kwargs):
            began = time.perf_counter()
            try:
                return timer._send(client, request, **kwargs)
            finally:
                if request.headers.get("user-agent") == USER_AGENT:
                    timer.seconds += time.perf_counter() - began
        httpx2.Client.send = timed


def overhead(rounds: int) -> None:
    with EmbeddedFleet() as fleet:
        runner = Runner(fleet.target)
        server = ServerTime()
        try:
            for relative, service in CELLS:
                scenario = scenarios.load(ROOT / "scenarios" / relative)
                cell, = [c for c in scenarios.cells(scenario, fleet.target)
                         if c.service == service and c.driver == "http"]
                totals, waits = [], []
                for _ in range(rounds):
                    server.seconds = 0.0
                    result = runner.run(cell)
                    assert result.outcome == "passed", result.failure
                    totals.append(result.seconds)
                    waits.append(server.seconds)
                spent = [t - w for t, w in zip(totals, waits)]
                print(f"  {relative:38} cell {statistics.median(totals) * 1000:6.2f} ms   "
                      f"round trips {statistics.median(waits) * 1000:6.2f} ms   "
                      f"harness {statistics.median(spent) * 1000:5.2f} ms (median of {rounds})")
        finally:
            runner.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    fresh, in_process, count = validation()
    print(f"validation of {count} bundled scenario files: {fresh * 1000:.0f} ms in a fresh interpreter "
          f"(mic-harness validate), {in_process * 1000:.1f} ms in-process")
    print("harness overhead per HTTP-only cell (cell time minus time in HTTP round trips):")
    overhead(args.rounds)


if __name__ == "__main__":
    main()
