"""Regressions: this run's results against an earlier ``results.json``.

CI gates on it: a cell that passed (or was expected to fail) before and fails now is a
regression and fails the run, even when the run's own exit status would not.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: outcomes that count as a broken cell, and as a working one
BROKEN = frozenset({"failed", "xpassed"})
WORKING = frozenset({"passed", "warned"})


class BaselineError(ValueError):
    pass


@dataclass(frozen=True)
class Comparison:
    newly_failing: list[str]
    newly_passing: list[str]
    vanished: list[str]
    added: list[str]
    #: cells the baseline did not have that fail now: new failures too
    added_failing: list[str]

    @property
    def regressed(self) -> bool:
        return bool(self.newly_failing or self.added_failing)

    def as_json(self) -> dict:
        return {"newly_failing": self.newly_failing, "newly_passing": self.newly_passing,
                "vanished": self.vanished, "added": self.added, "added_failing": self.added_failing}

    def lines(self) -> list[str]:
        sections = [("newly failing", self.newly_failing), ("new cell failing", self.added_failing),
                    ("newly passing", self.newly_passing), ("vanished", self.vanished)]
        out = [f"against the baseline: {len(self.newly_failing)} newly failing, "
               f"{len(self.newly_passing)} newly passing, {len(self.vanished)} vanished, {len(self.added)} new"]
        for title, ids in sections:
            out += [f"  {title}: {cell}" for cell in ids]
        return out


def outcomes(path: str | Path) -> dict[str, str]:
    """Cell id -> outcome from a results.json, or a BaselineError that says what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {r["id"]: r["outcome"] for r in data["results"]}
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"{path}: not a results.json written by mic-harness ({exc})") from None


def compare(before: dict[str, str], now: dict[str, str]) -> Comparison:
    common = sorted(set(before) & set(now))
    added = sorted(set(now) - set(before))
    return Comparison(
        newly_failing=[c for c in common if now[c] in BROKEN and before[c] not in BROKEN],
        newly_passing=[c for c in common if now[c] in WORKING and before[c] in BROKEN],
        vanished=sorted(set(before) - set(now)),
        added=added,
        added_failing=[c for c in added if now[c] in BROKEN],
    )
