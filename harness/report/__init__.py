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


def cell_json(r: CellResult) -> dict:
    """One cell as results.json keeps it; also what an xdist worker sends to the controller."""
    return {
        "file": r.cell.location,
        "scenario": r.cell.scenario.title,
        "service": r.cell.service,
        "connector": r.connector,
        "flow": Path(r.cell.location).parent.name or ".",
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
    }


def as_json(cells: list[dict], profile: str | None = None, run: dict | None = None,
            requirements: dict | None = None) -> dict:
    """The whole run, cells in id order so serial and parallel runs write the same file;
    ``requirements`` is the coverage of the requirement catalogue by the run's scenario files."""
    cells = sorted(cells, key=lambda c: c["id"])
    counts = Counter(c["outcome"] for c in cells)
    return {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "profile": profile,
        "run": run or {},
        "summary": {"total": len(cells), "passed": counts["passed"], "failed": counts["failed"]},
        "tally": tally(cells, profile),
        **({"coverage": requirements} if requirements else {}),
        "results": cells,
    }


def tally(cells: list[dict], profile: str | None = None) -> dict[str, dict[str, dict[str, int]]]:
    """Counts by outcome per profile (when one ran), connector and flow, every outcome present."""
    groups: dict[str, dict[str, dict[str, int]]] = {"profile": {}, "connector": {}, "flow": {}}
    for c in cells:
        keys = (("profile", profile), ("connector", c["connector"] or "unknown"), ("flow", c["flow"]))
        for kind, key in keys:
            if key is not None:
                counts = groups[kind].setdefault(key, dict.fromkeys(page.OUTCOMES, 0))
                counts[c["outcome"]] = counts.get(c["outcome"], 0) + 1
    return {kind: dict(sorted(by.items())) for kind, by in groups.items() if by}


def write(directory: Path, cells: list[dict], profile: str | None = None, run: dict | None = None,
          requirements: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data = as_json(cells, profile, run, requirements)
    (directory / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return render(directory, data)


def render(directory: Path, data: dict, verdict: dict | None = None) -> Path:
    """report.html for a run's data, with a certification's verdict on top when there is one."""
    report = directory / "report.html"
    report.write_text(page.render(data, directory, verdict), encoding="utf-8")
    return report
