"""The certification package: a profile's verdict a vendor can show, and check later.

After ``mic-harness certify`` has run a profile, the report directory gets a
``manifest.json`` and ``manifest.sha256``, the digest of the manifest and so of the whole
package. The manifest names what was certified and how: the profile, the MIC as it ran
(its URL, the vendor's upstream in place of a mock), the command line, the versions,
every cell's outcome, and the SHA-256 of every input (the profile, each scenario file,
the embedded target and MIC configuration) and of every file of the report; report.html
shows the verdict first.

Certification is refused when a required cell did not pass: failed, skipped, or excused
by an expected-failures file (a certificate cannot be bought with a list of deviations).
A narrowed run (``--service``, ``-k``, deselected cells) certifies nothing: its verdict is
``partial``, whatever its cells did.

With a vendor's server in place of the profile's mock upstream, a cell skipped because
that server has no control surface (no clock, faults or request log to reach) is not
applicable to it: the manifest says so, and it does not refuse certification. Services
of the profile that the vendor's declaration does not map are listed, not run.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from mic_reference import config as mic_config

from . import report
from .profiles import DIRECTORY as PROFILES, SCENARIOS, Profile, relative_to_suite
from .scenario import UNCONTROLLED_UPSTREAM
from .target import EMBEDDED

PASSING = frozenset({"passed", "warned"})
MANIFEST = "manifest.json"
DIGEST = "manifest.sha256"
#: where the project's inputs lie, so the manifest names them relative to it
ROOT = SCENARIOS.parent


@dataclass(frozen=True)
class Verdict:
    verdict: str  # certified, refused, or partial (a narrowed run: not a certification)
    refusals: list[str]
    digest: str
    summary: str

    @property
    def certified(self) -> bool:
        return self.verdict == "certified"

    def lines(self) -> list[str]:
        if self.verdict == "refused":
            return [f"refused: {len(self.refusals)} required cell(s) did not pass"] + [f"  {r}" for r in self.refusals]
        return [f"{self.summary} (package digest sha256:{self.digest})"]


def package(directory: Path, profile: Profile) -> Verdict:
    """Write the manifest for the run whose results.json is in ``directory``; the verdict."""
    data = json.loads((directory / "results.json").read_text(encoding="utf-8"))
    run = data.get("run") or {}
    vendor = run.get("upstream")
    cells = [_cell(result, profile, vendor is not None) for result in data["results"]]
    refusals = [f"{c['id']}: {c['outcome']}" + (f" ({c['reason']})" if c["reason"] else "")
                for c in cells if c["required"] and c["outcome"] not in PASSING]
    if not any(c["applicable"] and c["outcome"] in PASSING for c in cells):
        refusals.append(f"the profile '{profile.name}' passed no applicable cell on this target")
    word, summary = _judge(refusals, run.get("narrowed", []), cells)
    unmapped = vendor.get("unmapped", []) if vendor else []
    notes = [f"not run: service {sid} (the declaration does not map it)" for sid in unmapped]
    notes += [f"not applicable: {c['id']} ({c['reason']})" for c in cells if not c["applicable"]]
    manifest = {
        "profile": {"name": profile.name, "description": profile.description},
        "verdict": word,
        "summary": summary,
        "refusals": refusals,
        "notes": notes,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "harness": {"package": "mic-conformance", "version": version("mic-conformance")},
        "run": run,
        "target": {**{k: run.get("target", {}).get(k) for k in ("mic", "app_key", "services")},
                   **({"upstream": {"replaces": vendor["replaces"], "url": vendor["url"]}} if vendor else {})},
        "unmapped": unmapped,
        "cells": cells,
        "inputs": _inputs(profile, embedded=run.get("target", {}).get("embedded", True)),
    }
    report.render(directory, data, manifest)  # the verdict on the report's first screen
    manifest["files"] = {str(path.relative_to(directory)): _sha256(path.read_bytes())
                         for path in sorted(directory.rglob("*"))
                         if path.is_file() and path.name not in (MANIFEST, DIGEST)}
    body = (json.dumps(manifest, indent=2) + "\n").encode()
    (directory / MANIFEST).write_bytes(body)
    digest = _sha256(body)
    (directory / DIGEST).write_text(f"{digest}  {MANIFEST}\n", encoding="utf-8")
    return Verdict(word, refusals, digest, summary)


def _cell(result: dict, profile: Profile, vendor: bool) -> dict:
    required = profile.required(relative_to_suite(Path(result["file"])) or result["file"])
    applicable = not (vendor and result["outcome"] == "skipped"
                      and (result.get("reason") or "").startswith(UNCONTROLLED_UPSTREAM))
    return {"id": result["id"], "outcome": result["outcome"], "required": required and applicable,
            "applicable": applicable, "reason": result.get("reason")}


def _judge(refusals: list[str], narrowed: list[str], cells: list[dict]) -> tuple[str, str]:
    ran = sum(c["applicable"] for c in cells)
    if refusals:
        return "refused", f"refused: {len(refusals)} required cell(s) did not pass"
    if narrowed:
        return "partial", (f"partial, not a certification: a narrowed run ({'; '.join(narrowed)}), "
                           f"{ran} applicable cell(s) passed or were optional")
    return "certified", f"certified: every required cell passed ({ran} applicable cell(s))"


def _inputs(profile: Profile, embedded: bool) -> dict[str, str]:
    """The SHA-256 of what decided the verdict: the profile, its scenario files and, on the
    embedded fleet, the target and the MIC's configuration."""
    paths = [PROFILES / f"{profile.name}.yaml", *profile.files()]
    if embedded:
        paths += [EMBEDDED, mic_config.DEMO]
    return {path.resolve().relative_to(ROOT).as_posix(): _sha256(path.read_bytes()) for path in paths}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
