"""Timing a scenario cell on the embedded fleet, for the benches that report cells' times."""
from __future__ import annotations

from harness.runner import Runner
from harness.scenario import Cell


def run_times(runner: Runner, cell: Cell, runs: int) -> tuple[float, list[float]]:
    """The first run's seconds (it warms up: the browser launches, connections open), then
    the seconds of ``runs`` more; every run must pass."""
    first = runner.run(cell)
    results = [first] + [runner.run(cell) for _ in range(runs)]
    failures = [result.failure for result in results if result.outcome != "passed"]
    assert not failures, f"{cell.location}::{cell.id}: {failures[0]}"
    return first.seconds, [result.seconds for result in results[1:]]
