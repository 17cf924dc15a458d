"""``report.html``: one self-contained page (inline CSS and SVG, no script, nothing fetched).

The summary comes first: counts by outcome per connector and per flow, and links to
the cells that need a look. Then one section per cell, open when it failed, warned or
passed unexpectedly: its steps with their lines and citations, its sequence diagram,
and for a failure what was expected and what came, a curl command, the screenshot
(inlined) and a link to the Playwright trace. Stable ids and classes (``#summary``,
``.cell``, ``svg.sequence``, ``.curl``, ``img.screenshot``, ``a.trace``) let tests and
people's tools find each part. Every value is escaped.
"""
from __future__ import annotations

import base64
from html import escape as e
from pathlib import Path
from typing import Any

from . import sequence

#: every outcome a cell can have, in the order the tally shows them
OUTCOMES = ("passed", "warned", "failed", "xfailed", "xpassed", "skipped")
#: outcomes that open a cell's section and list it under the summary
NOTABLE = ("failed", "xpassed", "warned")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table.tally { border-collapse: collapse; margin: 1rem 0; }
.tally td, .tally th { border: 1px solid #ccc; padding: .25rem .6rem; text-align: right; }
.tally th[scope=row] { text-align: left; font-weight: normal; }
.tally tr.group th { background: #f3f3f3; text-align: left; }
.tally td.zero { color: #bbb; }
.passed .outcome, td.passed { color: #070; } .warned .outcome, td.warned { color: #a60; }
.failed .outcome, td.failed, .xpassed .outcome, td.xpassed { color: #b00; font-weight: bold; }
.xfailed .outcome, .skipped .outcome { color: #666; }
#verdict { border: 2px solid #888; border-radius: 6px; padding: .2rem 1rem; }
#verdict.certified { border-color: #070; background: #f2fbf2; } #verdict.refused { border-color: #b00; background: #fff4f4; }
#verdict.partial { border-color: #a60; background: #fffaf0; }
table.run th { text-align: left; padding-right: 1rem; font-weight: 600; } table.run td { font-family: ui-monospace, monospace; font-size: .85rem; }
details.cell { border: 1px solid #ddd; border-radius: 6px; margin: .6rem 0; padding: .4rem .8rem; }
details.cell > summary { cursor: pointer; font-weight: 600; }
.cell .id { font-family: ui-monospace, monospace; font-size: .85rem; color: #555; }
ol.steps { font-size: .9rem; } li.failed { color: #b00; } li.warned { color: #a60; } li.skipped { color: #888; }
.line { font-family: ui-monospace, monospace; color: #666; }
.failure { background: #fff4f4; border-left: 4px solid #b00; padding: .4rem .8rem; margin: .6rem 0; }
pre.curl { background: #f6f6f6; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
img.screenshot { max-width: min(100%, 720px); border: 1px solid #ccc; margin: .4rem 0; }
figure.diagram { overflow-x: auto; margin: .6rem 0; }
svg.sequence { font: 11px ui-monospace, monospace; }
svg.sequence .participant rect { fill: #eef3fb; stroke: #1f5fa8; }
svg.sequence .participant text { text-anchor: middle; font-weight: bold; font-size: 12px; }
svg.sequence .lifeline { stroke: #aaa; stroke-dasharray: 4 4; }
svg.sequence .exchange line, svg.sequence .exchange path { stroke: #333; fill: none; }
svg.sequence .exchange text { text-anchor: middle; fill: #222; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.sequence .answer line, svg.sequence .answer path { stroke-dasharray: 5 3; }
svg.sequence .back line, svg.sequence .back path { stroke: #1f5fa8; } svg.sequence .back text { fill: #1f5fa8; }
svg.sequence .error line, svg.sequence .error path { stroke: #b00; } svg.sequence .error text { fill: #b00; }
svg.sequence text.time { text-anchor: start; fill: #999; }
svg.sequence text.gap { fill: #666; font-style: italic; }
table.coverage td.count { text-align: right; } table.coverage tr.gap td { color: #b00; }
"""


def render(data: dict[str, Any], directory: Path, verdict: dict[str, Any] | None = None) -> str:
    """The page for ``data`` (as in results.json); ``directory`` holds the artifacts it links;
    a certification's ``verdict`` (as in its manifest) comes first."""
    cells = "".join(_cell(index, result, directory) for index, result in enumerate(data["results"]))
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>MIC conformance report</title>'
            f"<style>{STYLE}</style></head><body>\n<h1>MIC conformance report</h1>\n"
            f"{_verdict(verdict) if verdict else ''}{_run(data.get('run') or {})}{_summary(data)}\n"
            f"{_coverage(data['coverage']) if data.get('coverage') else ''}"
            f'<section id="cells"><h2>Cells</h2>{cells}</section>\n</body></html>\n')


def _verdict(verdict: dict[str, Any]) -> str:
    """The certification's verdict, first on the page: what was certified, or why not."""
    word = verdict["verdict"]
    lines = "".join(f"<li>{e(line)}</li>" for line in verdict.get("refusals", []) + verdict.get("notes", []))
    return (f'<section id="verdict" class="{e(word)}"><h2>Certification: {e(word)}</h2>'
            f'<p>profile <b>{e(verdict["profile"]["name"])}</b> — {e(verdict["summary"])}</p>'
            + (f"<ul>{lines}</ul>" if lines else "") + "</section>\n")


def _run(run: dict[str, Any]) -> str:
    """What ran against what: the MIC, the vendor's upstream, the command, versions, time."""
    if not run:
        return ""
    target = run.get("target", {})
    facts = [("MIC", target.get("mic") or "the embedded reference MIC, one per worker"),
             ("upstream", f"{run['upstream']['url']} in place of {run['upstream']['replaces']}"
              if run.get("upstream") else None),
             ("command", " ".join(run.get("command", [])) or None),
             ("narrowed", "; ".join(run.get("narrowed", [])) or None),
             ("versions", ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items()) or None),
             ("started", f"{run.get('started')} ({run.get('seconds')} s)" if run.get("started") else None)]
    rows = "".join(f"<tr><th scope='row'>{e(name)}</th><td>{e(str(value))}</td></tr>" for name, value in facts if value)
    return f'<section id="run"><h2>Run</h2><table class="run">{rows}</table></section>\n'


def _coverage(found: dict[str, Any]) -> str:
    """The requirement matrix (``harness.coverage.as_json``), when the run was given one: gaps in red."""
    rows = "".join(f"<tr class='{'' if r['scenarios'] else 'gap'}'><td>{e(r['cite'])}</td><td>{e(r['level'])}</td>"
                   f"<td>{e(', '.join(r['binds']))}</td><td class='count'>{len(r['scenarios'])}</td>"
                   f"<td class='count'>{r['negative']}</td><td>{e(r['requires'])}</td></tr>"
                   for r in found["requirements"])
    unknown = "".join(f"<li>{e(u['file'])}:{e(str(u['line']))}: {e(u['cite'])}</li>" for u in found["unknown"])
    return (f'<section id="coverage"><h2>Requirement coverage</h2><p>{len(found["gaps"])} requirements have no '
            f'scenario; negative: expectations that check a refusal</p><table class="coverage"><thead><tr>'
            "<th>requirement</th><th>level</th><th>binds</th><th>scenarios</th><th>negative</th><th>requires</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
            + (f"<h3>Cites not in the catalogue</h3><ul>{unknown}</ul>" if unknown else "") + "</section>\n")


def _summary(data: dict[str, Any]) -> str:
    results = data["results"]
    totals = {outcome: sum(r["outcome"] == outcome for r in results) for outcome in OUTCOMES}
    line = ", ".join(f"{n} {outcome}" for outcome, n in totals.items() if n)
    head = "".join(f"<th scope='col'>{outcome}</th>" for outcome in OUTCOMES)
    rows = [f"<tr class='total'><th scope='row'>all cells</th>{_counts(totals)}<td>{len(results)}</td></tr>"]
    for kind, groups in data["tally"].items():
        rows.append(f"<tr class='group'><th colspan='{len(OUTCOMES) + 2}'>by {e(kind)}</th></tr>")
        rows += [f"<tr class='{e(kind)}'><th scope='row'>{e(name)}</th>{_counts(counts)}"
                 f"<td>{sum(counts.values())}</td></tr>" for name, counts in groups.items()]
    notable = "".join(f"<li class='{e(r['outcome'])}'><a href='#cell-{i}'>{e(r['id'])}</a> "
                      f"<span class='outcome'>{e(r['outcome'])}</span></li>"
                      for i, r in enumerate(results) if r["outcome"] in NOTABLE)
    return (f'<section id="summary"><h2>Summary</h2><p class="totals">{len(results)} cells: {e(line)} '
            f'— generated {e(data["generated"])}</p><table class="tally"><thead><tr><th></th>{head}'
            f'<th scope="col">total</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            + (f'<h3>Needs a look</h3><ul class="notable">{notable}</ul>' if notable else "") + "</section>")


def _counts(counts: dict[str, int]) -> str:
    return "".join(f"<td class='{outcome if counts.get(outcome) else 'zero'}'>{counts.get(outcome, 0)}</td>"
                   for outcome in OUTCOMES)


def _cell(index: int, r: dict[str, Any], directory: Path) -> str:
    opened = " open" if r["outcome"] in NOTABLE else ""
    facts = " · ".join(e(str(fact)) for fact in (r["connector"], r["flow"], f"{r['seconds'] * 1000:.0f} ms") if fact)
    reason = f"<p class='reason'>{e(r['reason'])}</p>" if r["reason"] else ""
    diagram = sequence.svg(r["exchanges"], f"arrow-{index}")
    figure = (f"<figure class='diagram'>{diagram}<figcaption>HTTP exchanges as recorded, secrets masked; "
              "hover over an arrow for its request or answer</figcaption></figure>") if diagram else ""
    return (f"<details class='cell {e(r['outcome'])}' id='cell-{index}'{opened}><summary>{e(r['scenario'])} "
            f"<span class='outcome'>{e(r['outcome'])}</span></summary>"
            f"<p class='id'>{e(r['id'])} · {facts}</p>{reason}{_failure(r, directory)}"
            f"<ol class='steps'>{''.join(_step(s) for s in r['steps'])}</ol>{figure}</details>")


def _step(step: dict[str, Any]) -> str:
    line = f"<span class='line'>line {step['line']}</span> " if step["line"] else ""
    message = f": {e(step['message'])}" if step["message"] else ""
    cite = f" <cite>{e(step['cite'])}</cite>" if step["cite"] else ""
    outcome = e(step["outcome"])
    return f"<li class='step {outcome}'>{line}<b>{e(step['step'])}</b> {outcome}{message}{cite}</li>"


def _failure(r: dict[str, Any], directory: Path) -> str:
    """What failed (expected vs actual), a curl replay, and the browser's evidence."""
    failed = next((s for s in r["steps"] if s["outcome"] == "failed"), None)
    if failed is None:
        return ""
    where = f"{r['file']}:{failed['line']}" if failed["line"] else r["file"]
    cite = f" <cite>{e(failed['cite'])}</cite>" if failed["cite"] else ""
    parts = [f"<p class='expectation'><b>{e(where)}</b> step <b>{e(failed['step'])}</b>: "
             f"<span class='message'>{e(failed['message'])}</span>{cite}</p>"]
    if r["curl"]:
        parts.append(f"<p>Replay the app's last request:</p><pre class='curl'>{e(r['curl'])}</pre>")
    artifacts = r["artifacts"]
    if "screenshot" in artifacts and (directory / artifacts["screenshot"]).is_file():
        png = base64.b64encode((directory / artifacts["screenshot"]).read_bytes()).decode()
        parts.append(f"<img class='screenshot' alt='the page when the cell failed' src='data:image/png;base64,{png}'>")
    if "trace" in artifacts:
        parts.append(f"<p><a class='trace' href='{e(artifacts['trace'])}' download>Playwright trace</a> "
                     f"(<code>playwright show-trace {e(artifacts['trace'])}</code>; it holds the test users' "
                     "traffic unmasked, as does the screenshot)</p>")
    return f"<div class='failure'>{''.join(parts)}</div>"
