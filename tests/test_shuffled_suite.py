"""The bundled suite's HTTP cells in a shuffled order: every verdict is the one the suite gets in order.

The in-order run is the suite itself (``scenarios/`` is one of the test paths), where
every cell passes; shuffled, each cell must still pass, or be skipped for the reason it
is skipped in order.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(report: Path, *options: str) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "scenarios", "-k", "http",
                           "--mic-report", str(report), *options],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return {c["id"]: c["outcome"] for c in json.loads((report / "results.json").read_text())["results"]}


def test_the_http_cells_pass_in_a_shuffled_order(tmp_path):
    verdicts = _run(tmp_path / "shuffled", "--random-order-bucket=global", "--random-order-seed=20261204")
    assert len(verdicts) > 200
    assert set(verdicts.values()) == {"passed"}, {k: v for k, v in verdicts.items() if v != "passed"}
