"""The run's report: ``results.json`` for machines and ``report.html`` for people.

Nothing secret reaches it: failure messages are built from masked values.
"""
from __future__ import annotations

import html
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from .runner import CellResult


def as_json(results: list[CellResult]) -> dict:
    counts = Counter(r.outcome for r in results)
    return {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "summary": {"total": len(results), "passed": counts["passed"], "failed": counts["failed"]},
        "results": [{
            "file": r.cell.location,
            "scenario": r.cell.scenario.title,
            "service": r.cell.service,
            "driver": r.cell.driver,
            "id": f"{r.cell.location}::{r.cell.id}",
            "outcome": r.outcome,
            "reason": r.reason,
            "seconds": round(r.seconds, 4),
            "steps": [{"step": s.name, "line": s.line, "outcome": s.outcome, "seconds": round(s.seconds, 4),
                       "message": s.message, "cite": s.cite} for s in r.steps],
        } for r in results],
    }


def write(directory: Path, results: list[CellResult]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data = as_json(results)
    (directory / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    page = directory / "report.html"
    page.write_text(_html(data), encoding="utf-8")
    return page


def _html(data: dict) -> str:
    e = html.escape
    summary = data["summary"]
    rows = []
    for r in data["results"]:
        steps = "".join(
            f"<li class='{e(s['outcome'])}'>{e(s['step'])}"
            f"{' (line ' + str(s['line']) + ')' if s['line'] else ''}: {e(s['outcome'])}"
            f"{' — ' + e(s['message']) if s['message'] else ''}"
            f"{' <cite>' + e(s['cite']) + '</cite>' if s['cite'] else ''}</li>" for s in r["steps"])
        rows.append(f"<tr class='{e(r['outcome'])}'><td>{e(r['scenario'])}<br><small>{e(r['id'])}</small></td>"
                    f"<td>{e(r['service'])}</td><td>{e(r['driver'])}</td><td>{e(r['outcome'])}</td>"
                    f"<td>{r['seconds'] * 1000:.0f} ms</td><td><ol>{steps}</ol></td></tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MIC conformance report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: .4rem; vertical-align: top; text-align: left; }}
tr.passed td:nth-child(4) {{ color: #070; }} tr.failed td:nth-child(4) {{ color: #b00; font-weight: bold; }}
li.failed {{ color: #b00; }} li.skipped {{ color: #888; }}
</style></head><body>
<h1>MIC conformance report</h1>
<p id="summary">{summary['total']} cells: {summary['passed']} passed, {summary['failed']} failed
— generated {e(data['generated'])}</p>
<table><thead><tr><th>Scenario</th><th>Service</th><th>Driver</th><th>Outcome</th><th>Time</th><th>Steps</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table></body></html>
"""
