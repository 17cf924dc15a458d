"""``mic-harness coverage``: which requirements the scenarios check, and how hard.

The catalogue (``requirements.yaml``, beside this module so no scenario glob takes it
for a scenario) names every requirement the suite claims, keyed by the cite string the
scenarios use, with its source, clause, level and the party it binds. A suite is worth
the violations it catches, so each citation is counted twice: by scenario file, and as a
*negative* expectation, one that checks a refusal (a 4xx, a JSON or redirect ``error``, a
token ``absent``, a fuzz step; never a warning), which a MIC that breaks the rule cannot
meet. A cite missing from the catalogue is a typo or an undocumented claim, and fails the
command; a requirement no scenario checks is a gap, reported first for the MIC's MUSTs.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumbing import yamlfile
from plumbing.yamlfile import YamlError

from . import scenario as scenarios

CATALOGUE = Path(__file__).parent / "requirements.yaml"
LEVELS = ("MUST", "SHOULD", "MAY")
#: who a requirement binds, in the order gaps are listed
PARTIES = ("mic", "baas", "client", "oauth2-provider", "openid-provider", "saml-idp", "wrap-idp", "directory",
           "flexauth-service", "facebook")
_TEXT = {"type": "string", "minLength": 1}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sources", "requirements"],
    "properties": {
        "sources": {"type": "object", "minProperties": 1, "description": "document id -> its title and address",
                    "additionalProperties": {"type": "object", "additionalProperties": False,
                                             "required": ["title"],
                                             "properties": {"title": _TEXT, "url": _TEXT}}},
        "requirements": {"type": "object", "minProperties": 1, "description": "cite -> the requirement",
                         "additionalProperties": {
                             "type": "object", "additionalProperties": False,
                             "required": ["source", "clause", "level", "binds", "requires"],
                             "properties": {
                                 "source": {**_TEXT, "description": "a key of sources"},
                                 "clause": {**_TEXT, "description": "section, item or heading in the source"},
                                 "level": {"enum": list(LEVELS), "description": "as the source words it"},
                                 "binds": {"type": "array", "minItems": 1, "uniqueItems": True,
                                           "items": {"enum": list(PARTIES)}},
                                 "requires": {**_TEXT, "description": "what it requires, in a line"},
                             }}},
    },
}


@dataclass(frozen=True)
class Requirement:
    cite: str
    source: str
    clause: str
    level: str
    binds: tuple[str, ...]
    requires: str

    @property
    def binds_mic(self) -> bool:
        return "mic" in self.binds or "baas" in self.binds


@dataclass(frozen=True)
class Citation:
    cite: str
    file: str
    line: int | None
    step: str
    negative: bool


@dataclass
class Coverage:
    requirements: dict[str, Requirement]
    citations: list[Citation] = field(default_factory=list)
    #: scenario files that cite nothing in the catalogue
    uncited: list[str] = field(default_factory=list)
    #: files that could not be read (file:line: why)
    errors: list[str] = field(default_factory=list)

    @property
    def unknown(self) -> list[Citation]:
        return [c for c in self.citations if c.cite not in self.requirements]

    def by_requirement(self) -> dict[str, list[Citation]]:
        found: dict[str, list[Citation]] = defaultdict(list)
        for c in self.citations:
            found[c.cite].append(c)
        return found

    def gaps(self) -> list[Requirement]:
        """Requirements no scenario checks: the MIC's MUSTs first, then by level and party."""
        cited = self.by_requirement()
        return sorted((r for r in self.requirements.values() if r.cite not in cited), key=_urgency)

    def unrefused(self) -> list[Requirement]:
        """MUSTs binding the MIC that scenarios cite, but never with a negative expectation."""
        cited = self.by_requirement()
        return [r for r in self.requirements.values() if r.level == "MUST" and r.binds_mic and r.cite in cited
                and not any(c.negative for c in cited[r.cite])]


def _urgency(r: Requirement) -> tuple:
    return (not (r.level == "MUST" and r.binds_mic), LEVELS.index(r.level),
            min(PARTIES.index(party) for party in r.binds), r.cite)


def load_catalogue(path: str | Path = CATALOGUE) -> dict[str, Requirement]:
    """The catalogue's requirements by cite, or a YamlError naming the file and line."""
    document = yamlfile.load(path)
    document.validate(SCHEMA)
    sources = document.data["sources"]
    found = {}
    for cite, raw in document.data["requirements"].items():
        if raw["source"] not in sources:
            raise document.error(("requirements", cite, "source"), f"unknown source '{raw['source']}' for {cite}; "
                                 f"sources: {', '.join(sorted(sources))}")
        if cite != raw["source"] and not cite.startswith((raw["source"] + "-", raw["source"] + ":")):
            raise document.error(("requirements", cite), f"{cite} is cited as if from another source than "
                                 f"{raw['source']}: its cite begins with its source and '-' or ':'", at_key=True)
        found[cite] = Requirement(cite, raw["source"], raw["clause"], raw["level"], tuple(raw["binds"]),
                                  raw["requires"])
    return found


def negative(step: str, args: dict[str, Any]) -> bool:
    """Whether a step checks a refusal: what a MIC that breaks the cited rule cannot answer."""
    if step == "fuzz":
        return True  # every variant must be refused, and none may get a token or a code
    if step != "expect" or args.get("severity") == "warning":
        return False  # a warning fails nothing, so a violating MIC meets it too
    status = args.get("status")
    redirect = args.get("redirect", {})
    return (isinstance(status, int) and 400 <= status < 500
            or args.get("landed") == "mic"  # the MIC stopped the flow on a refusal page of its own
            or any(path.split(".")[0] == "error" for path in args.get("json", {}))
            or "error" in redirect.get("params", {}) or "error" in redirect.get("present", [])
            or any(_is_token(path) for path in args.get("absent", []) + redirect.get("absent", [])))


def _is_token(path: str) -> bool:
    name = path.rsplit(".", 1)[-1]
    return name == "code" or name.endswith("token")


def citations(scenario: scenarios.Scenario, shown: str) -> list[Citation]:
    """Every explicit ``cite`` of a scenario's steps (a step's default cite is not a claim)."""
    return [Citation(spec.args["cite"], shown, spec.line, spec.name, negative(spec.name, spec.args))
            for spec in scenario.steps if isinstance(spec.args.get("cite"), str)]


def measure(files: list[Path], catalogue: str | Path = CATALOGUE) -> Coverage:
    """The coverage of ``catalogue`` by the scenario ``files``; a bad catalogue raises YamlError.

    A file marked ``skip`` or ``xfail`` checks nothing on a passing run: its cites are
    checked for typos but not counted.
    """
    coverage = Coverage(load_catalogue(catalogue))
    for path in files:
        shown = str(path)  # as the caller named it: relative when given relative
        try:
            loaded = scenarios.load(path)
        except YamlError as exc:
            coverage.errors.append(str(exc))
            continue
        cites = citations(loaded, shown)
        known = [c for c in cites if c.cite in coverage.requirements]
        if loaded.skip or loaded.xfail:
            coverage.citations += [c for c in cites if c not in known]
            continue
        coverage.citations += cites
        if not known:
            coverage.uncited.append(shown)
    return coverage


def matrix(coverage: Coverage) -> list[dict[str, Any]]:
    """Per requirement: what it is, which scenario files cite it and how many expectations refuse."""
    cited = coverage.by_requirement()
    rows = []
    for r in coverage.requirements.values():
        found = cited.get(r.cite, [])
        rows.append({"cite": r.cite, "source": r.source, "clause": r.clause, "level": r.level,
                     "binds": list(r.binds), "requires": r.requires,
                     "scenarios": sorted({c.file for c in found}), "expectations": len(found),
                     "negative": sum(c.negative for c in found)})
    return rows


def as_json(coverage: Coverage) -> dict[str, Any]:
    return {"requirements": matrix(coverage),
            "gaps": [r.cite for r in coverage.gaps()],
            "unrefused": [r.cite for r in coverage.unrefused()],
            "unknown": [{"cite": c.cite, "file": c.file, "line": c.line} for c in coverage.unknown],
            "uncited_files": coverage.uncited,
            "errors": coverage.errors}


def as_text(coverage: Coverage) -> str:
    rows = matrix(coverage)
    width = max(len(row["cite"]) for row in rows)
    lines = [f"{'requirement':<{width}}  level   scenarios  negative  binds"]
    lines += [f"{row['cite']:<{width}}  {row['level']:<6}  {len(row['scenarios']):>9}  {row['negative']:>8}  "
              f"{', '.join(row['binds'])}" for row in rows]
    gaps, unrefused, unknown = coverage.gaps(), coverage.unrefused(), coverage.unknown
    checked = sum(1 for row in rows if row["scenarios"])
    lines.append(f"\n{len(rows)} requirements: {checked} checked by a scenario, {len(gaps)} not; "
                 f"{len(coverage.citations)} citations, {sum(c.negative for c in coverage.citations)} negative")
    lines += _section("Not checked by any scenario", [
        f"{r.cite} ({r.level}, {', '.join(r.binds)}): {r.requires}" for r in gaps])
    lines += _section("MUSTs of the MIC cited only by positive expectations (nothing checks a refusal)", [
        f"{r.cite}: {r.requires}" for r in unrefused])
    lines += _section("Cites not in the catalogue", [f"{c.file}:{c.line}: {c.cite}" for c in unknown])
    lines += _section("Scenario files citing nothing in the catalogue", coverage.uncited)
    lines += _section("Files that could not be read", coverage.errors)
    return "\n".join(lines)


def _section(title: str, items: list[str]) -> list[str]:
    return [f"\n{title} ({len(items)}):", *(f"  {item}" for item in items)] if items else []


def main(files: list[Path], errors: list[str], catalogue: str | Path = CATALOGUE, machine: bool = False) -> int:
    """Print the coverage; 1 when a cite is unknown or a file (scenario or catalogue) is broken."""
    try:
        coverage = measure(files, catalogue)
    except YamlError as exc:
        print(f"mic-harness coverage: {exc}", file=sys.stderr)
        return 1
    coverage.errors[:0] = errors
    print(json.dumps(as_json(coverage), indent=2) if machine else as_text(coverage))
    return 1 if coverage.unknown or coverage.errors else 0
