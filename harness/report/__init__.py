"""The run's report: ``results.json`` for machines and ``report.html`` for people.

Nothing secret reaches it: failure messages are built from masked values, and the
recorded exchanges were masked as they were recorded. The page is one self-contained
file (``page.py``) with a sequence diagram per cell (``sequence.py``); a failed cell's
screenshot is inlined and its trace linked under ``artifacts/``.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from ..runner import CellResult
from . import page


def as_json(results: list[CellResult]) -> dict:
    counts = Counter(r.outcome for r in results)
    return {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "summary": {"total": len(results), "passed": counts["passed"], "failed": counts["failed"]},
        "tally": tally(results),
        "results": [{
            "file": r.cell.location,
            "scenario": r.cell.scenario.title,
            "service": r.cell.service,
            "connector": r.connector,
            "flow": flow(r),
            "driver": r.cell.driver,
            "id": f"{r.cell.location}::{r.cell.id}",
            "outcome": r.outcome,
            "reason": r.reason,
            "seconds": round(r.seconds, 4),
            "steps": [{"step": s.name, "line": s.line, "outcome": s.outcome, "seconds": round(s.seconds, 4),
                       "message": s.message, "cite": s.cite} for s in r.steps],
            "curl": r.curl,
            "artifacts": r.artifacts,
            "exchanges": [asdict(e) for e in r.exchanges],
        } for r in results],
    }


def flow(result: CellResult) -> str:
    """The kind of flow a scenario tests: its file's directory (login, refresh, sso, ...)."""
    return Path(result.cell.location).parent.name or "."


def tally(results: list[CellResult]) -> dict[str, dict[str, dict[str, int]]]:
    """Counts by outcome, per connector and per flow, with every outcome present (zeros included)."""
    groups: dict[str, dict[str, dict[str, int]]] = {"connector": {}, "flow": {}}
    for r in results:
        for kind, key in (("connector", r.connector or "unknown"), ("flow", flow(r))):
            counts = groups[kind].setdefault(key, dict.fromkeys(page.OUTCOMES, 0))
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return {kind: dict(sorted(by.items())) for kind, by in groups.items()}


def write(directory: Path, results: list[CellResult]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data = as_json(results)
    (directory / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    report = directory / "report.html"
    report.write_text(page.render(data, directory), encoding="utf-8")
    return report
