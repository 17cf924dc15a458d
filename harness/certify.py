"""The certification package: a profile's verdict a vendor can show, and check later.

After ``mic-harness certify`` has run a profile, the report directory gets a
``manifest.json`` (the profile, the target without its secrets, every cell's outcome,
and the SHA-256 of every file of the report) and ``manifest.sha256``, the digest of the
manifest and so of the whole package. Certification is refused when a required cell did
not pass: failed, skipped, or excused by an expected-failures file (a certificate
cannot be bought with a list of deviations).

With a vendor's server in place of the profile's mock upstream, a cell skipped because
that server has no control surface (no clock, faults or request log to reach) is not
applicable to it: the manifest says so, and it does not refuse certification.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from .profiles import Profile, relative_to_suite
from .scenario import UNCONTROLLED_UPSTREAM
from .target import Target
from .upstream import VendorUpstream

PASSING = frozenset({"passed", "warned"})
MANIFEST = "manifest.json"
DIGEST = "manifest.sha256"


@dataclass(frozen=True)
class Verdict:
    certified: bool
    refusals: list[str]
    digest: str

    def lines(self) -> list[str]:
        if self.certified:
            return [f"certified: every required cell passed (package digest sha256:{self.digest})"]
        return [f"refused: {len(self.refusals)} required cell(s) did not pass"] + [f"  {r}" for r in self.refusals]


def package(directory: Path, profile: Profile, target: Target, upstream: VendorUpstream | None = None) -> Verdict:
    results = json.loads((directory / "results.json").read_text(encoding="utf-8"))["results"]
    cells = []
    for result in results:
        required = profile.required(relative_to_suite(Path(result["file"])) or result["file"])
        applicable = not (upstream and result["outcome"] == "skipped"
                          and (result.get("reason") or "").startswith(UNCONTROLLED_UPSTREAM))
        cells.append({"id": result["id"], "outcome": result["outcome"], "required": required and applicable,
                      "applicable": applicable, "reason": result.get("reason")})
    refusals = [f"{c['id']}: {c['outcome']}" + (f" ({c['reason']})" if c["reason"] else "")
                for c in cells if c["required"] and c["outcome"] not in PASSING]
    if not cells:
        refusals.append(f"the profile '{profile.name}' ran no cell on this target")
    manifest = {
        "profile": {"name": profile.name, "description": profile.description},
        "verdict": "refused" if refusals else "certified",
        "refusals": refusals,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "harness": {"package": "mic-conformance", "version": version("mic-conformance")},
        "target": {"mic": target.mic, "app_key": target.app_key,
                   "services": {s.id: s.connector for s in target.services.values()},
                   **({"upstream": {"replaces": upstream.member, "url": upstream.url}} if upstream else {})},
        "cells": cells,
        "files": {str(path.relative_to(directory)): _sha256(path.read_bytes())
                  for path in sorted(directory.rglob("*"))
                  if path.is_file() and path.name not in (MANIFEST, DIGEST)},
    }
    body = (json.dumps(manifest, indent=2) + "\n").encode()
    (directory / MANIFEST).write_bytes(body)
    digest = _sha256(body)
    (directory / DIGEST).write_text(f"{digest}  {MANIFEST}\n", encoding="utf-8")
    return Verdict(not refusals, refusals, digest)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
