"""Apply each seeded defect to a scratch copy of the project and run the conformance suite on it.

    .venv/bin/python -m bench.defects [ids] [--quick] [--jobs N] [--json FILE]

The working tree is copied once (without .venv, node_modules, .git and what runs leave
behind), so every defect meets the same code however the tree changes meanwhile; each
defect then gets its own copy of that snapshot with its one edit, and pytest runs there
(its cwd and the first entry of PYTHONPATH: the copy's code is what runs, not the
editable install's). First the defect's own scenario files with ``-x``; if they all pass,
the rest of ``scenarios/`` (not with ``--quick``). "Caught" means a scenario cell failed
(or the suite could not run at all: a crash); the cell is named. Last, every catching
cell runs once on the unpatched snapshot: a cell that fails there too proves nothing,
and its defect is reported unproven. Prints a table and ``caught N of M``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from plumbing.yamlfile import YamlError

from . import catalogue
from .catalogue import ROOT, Defect

#: left out of the snapshot: environments, VCS, and what runs leave behind
IGNORED = shutil.ignore_patterns(".venv", "node_modules", ".git", "reports", "certification", "build", "__pycache__",
                                 "*.egg-info", ".pytest_cache", ".hypothesis", "*.sqlite3*")
#: seconds a pytest run may take: the defect's own files, then the rest of the suite
TIMEOUTS = {"own": 600, "rest": 2400, "control": 600}
PYTEST = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rfE"]


@dataclass
class Result:
    id: str
    file: str
    breaks: str
    #: caught, missed, stale or unproven (the catching cell fails without the defect too)
    status: str
    #: how it was caught: failed or error (a cell), crash (the suite did not run), timeout
    how: str = ""
    cell: str = ""
    #: which run caught it: own (the defect's scenario files) or rest (the rest of scenarios/)
    phase: str = ""
    seconds: float = 0.0
    detail: str = ""


def snapshot(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=IGNORED, symlinks=True)
    return dest


def _environment(copy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(copy), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.setdefault("MIC_HARNESS_CHROMIUM", "/usr/bin/chromium")
    return env


def pytest(copy: Path, args: list[str], timeout: float, *, stop_first: bool = True) -> tuple[int | None, str]:
    """pytest's exit status (None: killed at ``timeout``) and its output, run in ``copy``."""
    command = [sys.executable, *(PYTEST if stop_first else [a for a in PYTEST if a != "-x"]), *args]
    process = subprocess.Popen(command, cwd=copy, env=_environment(copy), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output


def failures(output: str) -> list[tuple[str, str]]:
    """(failed|error, node id) for each failure pytest's short summary lists (not log lines that say ERROR)."""
    found, summary = [], False
    for line in output.splitlines():
        summary = summary or "short test summary info" in line
        for word, how in (("FAILED ", "failed"), ("ERROR ", "error")):
            node = line[len(word):].split(" - ", 1)[0].strip()
            if summary and line.startswith(word) and node.startswith("scenarios/"):
                found.append((how, node))
    return found


def _verdict(result: Result, phase: str, code: int | None, output: str) -> bool:
    """Fill in how ``result`` was caught by this run; False when the run passed."""
    if code == 0:
        passed = [line.strip("= ") for line in output.splitlines() if " passed" in line]
        result.detail = f"{phase}: {passed[-1]}" if passed else ""  # what the defect got through
        return False
    listed = failures(output)
    result.status, result.phase = "caught", phase
    if code is None:
        result.how, result.detail = "timeout", f"no verdict within {TIMEOUTS[phase]} s"
    elif code == 1 and listed:
        result.how, result.cell = listed[0]
    else:
        result.how = "crash"
        result.detail = " | ".join(line for line in output.strip().splitlines()[-3:])[:300]
    return True


def run_defect(defect: Defect, base: Path, work: Path, quick: bool) -> Result:
    result = Result(defect.id, defect.file, defect.breaks, "missed")
    started = time.monotonic()
    count = defect.occurrences(base)
    if count != 1:
        result.status = "stale"
        result.detail = f"the text to find occurs {count} times in {defect.file}"
        return result
    copy = work / defect.id
    shutil.copytree(base, copy, symlinks=True)
    try:
        defect.apply(copy)
        caught = _verdict(result, "own", *pytest(copy, list(defect.scenarios), TIMEOUTS["own"]))
        if not caught and not quick:
            own_files = [f"--ignore={cell}" for cell in defect.scenarios if "::" not in cell]
            _verdict(result, "rest", *pytest(copy, ["scenarios/", *own_files], TIMEOUTS["rest"]))
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def control(base: Path, results: list[Result]) -> None:
    """Run every catching cell on the unpatched snapshot; a cell that fails there proves nothing."""
    cells = sorted({r.cell for r in results if r.status == "caught" and "::" in r.cell})
    if not cells:
        return
    code, output = pytest(base, cells, TIMEOUTS["control"], stop_first=False)
    failing = {cell for _, cell in failures(output)}
    if code is None or (code not in (0, 1)):
        failing = set(cells)  # the unpatched suite could not run: nothing is proven
    for result in results:
        if result.status == "caught" and result.cell in failing:
            result.status = "unproven"
            result.detail = "the cell fails on the unpatched tree too"


def table(results: list[Result], seconds: float) -> str:
    rows = [("defect", "file", "breaks", "result", "caught by", "s")]
    for r in results:
        by = r.cell or r.detail
        if r.how in ("crash", "timeout", "error"):
            by = f"{r.how}: {by}"
        if r.phase == "rest":
            by += " (rest of the suite)"
        rows.append((r.id, r.file, r.breaks, r.status, by if r.status != "missed" else f"- ({r.detail})",
                     f"{r.seconds:g}"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 5 else cell for i, cell in enumerate(row)).rstrip()
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    caught = sum(r.status == "caught" for r in results)
    tally = f"caught {caught} of {len(results)}"
    for status in ("missed", "stale", "unproven"):
        named = [r.id for r in results if r.status == status]
        if named:
            tally += f"\n{status} ({len(named)}): {', '.join(named)}"
    return "\n".join(lines) + f"\n\n{tally}\nwall time {seconds:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.defects", description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="defects to run (default: the whole catalogue)")
    parser.add_argument("--catalogue", type=Path, default=catalogue.CATALOGUE)
    parser.add_argument("--quick", action="store_true", help="only each defect's own scenario files")
    parser.add_argument("--jobs", type=int, default=1, help="defects run at once (default 1)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-control", action="store_true", help="skip the unpatched run of the catching cells")
    parser.add_argument("--list", action="store_true", help="list the catalogue and stop")
    args = parser.parse_args(argv)
    try:
        defects = catalogue.load(args.catalogue)
    except YamlError as exc:
        print(f"bench.defects: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for d in defects:
            print(f"{d.id:40} {d.breaks:36} {d.bug}")
        return 0
    by_id = {d.id: d for d in defects}
    unknown = [i for i in args.ids if i not in by_id]
    if unknown:
        print(f"bench.defects: no defect {', '.join(unknown)} in {args.catalogue}", file=sys.stderr)
        return 2
    chosen = [by_id[i] for i in args.ids] or defects
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mic-defects-") as scratch:
        base = snapshot(Path(scratch) / "base")
        work = Path(scratch)

        def one(defect: Defect) -> Result:
            result = run_defect(defect, base, work, args.quick)
            print(f"{defect.id}: {result.status} {result.cell or result.detail} ({result.seconds:g} s)",
                  file=sys.stderr, flush=True)
            return result

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(one, chosen))
        if not args.no_control:
            control(base, results)
    seconds = time.monotonic() - started
    print(table(results, seconds))
    if args.json:
        caught = sum(r.status == "caught" for r in results)
        args.json.write_text(json.dumps({"caught": caught, "total": len(results), "seconds": round(seconds, 1),
                                         "results": [asdict(r) for r in results]}, indent=2))
    return 0 if all(r.status == "caught" for r in results) else 1
