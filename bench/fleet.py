"""Benchmark: the fleet's cold start and the median wall time of the bundled scenarios.

    .venv/bin/python bench/fleet.py [--runs 20]

Cold start is measured in a fresh interpreter (imports included), from the first
import to every server answering. Scenario times are per matrix cell, with the fleet
and the browser already up (the browser is launched once, as in a test session).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLD_START = """
import time
began = time.perf_counter()
from harness.fleet import EmbeddedFleet
imported = time.perf_counter()
fleet = EmbeddedFleet().start()
ready = time.perf_counter()
fleet.stop()
print(imported - began, ready - imported)
"""


def cold_start(samples: int) -> tuple[float, float]:
    imports, starts = [], []
    for _ in range(samples):
        out = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True, check=True, cwd=ROOT)
        imported, started = map(float, out.stdout.split())
        imports.append(imported)
        starts.append(started)
    return statistics.median(imports), statistics.median(starts)


def scenario_medians(runs: int) -> list[tuple[str, float, str]]:
    from harness import scenario as scenarios
    from harness.fleet import EmbeddedFleet
    from harness.runner import Runner

    from cells import run_times

    rows = []
    with EmbeddedFleet() as fleet:
        runner = Runner(fleet.target)
        try:
            for path in sorted((ROOT / "scenarios").rglob("*.yaml")):
                for cell in scenarios.cells(scenarios.load(path), fleet.target):
                    first, times = run_times(runner, cell, runs)
                    rows.append((f"{path.relative_to(ROOT)}::{cell.id}", statistics.median(times),
                                 f"first run {first * 1000:.0f} ms"))
        finally:
            runner.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cold-samples", type=int, default=5)
    args = parser.parse_args()
    imports, start = cold_start(args.cold_samples)
    print(f"fleet cold start (the MIC, every mock, the demo app), median of {args.cold_samples}:")
    print(f"  imports {imports * 1000:7.1f} ms   servers up {start * 1000:7.1f} ms   "
          f"total {(imports + start) * 1000:7.1f} ms")
    print(f"scenario wall time, median of {args.runs} runs:")
    for name, median, note in scenario_medians(args.runs):
        print(f"  {median * 1000:8.1f} ms  {name}  ({note})")


if __name__ == "__main__":
    main()
