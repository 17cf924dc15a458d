"""Parallel runs: under pytest-xdist each worker owns a fleet, and the controller's report
says exactly what a serial run's does."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHOSEN = ["scenarios/login", "scenarios/refresh", "scenarios/ttl/code.yaml"]


def run(tmp_path, name: str, *extra: str) -> tuple[int, dict]:
    report = tmp_path / name
    done = subprocess.run([sys.executable, "-m", "pytest", *CHOSEN, "-p", "no:cacheprovider", "-q",
                           "--mic-report", str(report), "--mic-expected-failures", str(tmp_path / "known.yaml"),
                           *extra], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert (report / "results.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return done.returncode, json.loads((report / "results.json").read_text())


def outcomes(results: dict) -> dict[str, tuple]:
    return {r["id"]: (r["outcome"], r["reason"], [s["outcome"] for s in r["steps"]]) for r in results["results"]}


def test_two_workers_report_what_one_process_does(tmp_path):
    # a listed cell that passes is the strictest outcome to carry from a worker: it fails the run
    (tmp_path / "known.yaml").write_text("- {cell: 'scenarios/ttl/code.yaml::oauth2-code::*', reason: parity}\n")
    serial_exit, one = run(tmp_path, "serial")
    parallel_exit, two = run(tmp_path, "parallel", "-n", "2")
    assert serial_exit == parallel_exit == 1
    assert len(one["results"]) >= 15
    assert outcomes(one)["scenarios/ttl/code.yaml::oauth2-code::http"][0] == "xpassed"
    assert outcomes(two) == outcomes(one)
    assert two["summary"] == one["summary"] and two["tally"] == one["tally"]
    assert [r["id"] for r in two["results"]] == sorted(r["id"] for r in two["results"])
