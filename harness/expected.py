"""The expected-failures file: a vendor's known deviations, turned into expected failures.

Each entry names cells by glob over their ids (``scenarios/refresh/rotation.yaml::*::http``)
and says why. A listed cell that fails is reported as xfailed; one that passes fails the
run (strict), so the file cannot outlive the deviations it excuses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from plumbing import yamlfile

SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["cell", "reason"],
        "properties": {
            "cell": {"type": "string", "minLength": 1,
                     "description": "glob over cell ids: <scenario file>::<service>::<driver>"},
            "reason": {"type": "string", "minLength": 1, "description": "why the deviation is known"},
        },
    },
}


@dataclass(frozen=True)
class Entry:
    cell: str
    reason: str
    line: int | None


@dataclass
class ExpectedFailures:
    source: str
    entries: tuple[Entry, ...]
    _used: set[str] = field(default_factory=set)

    def reason_for(self, cell_id: str) -> str | None:
        """Why this cell is expected to fail, or None; remembers which entries matched."""
        for entry in self.entries:
            if fnmatchcase(cell_id, entry.cell):
                self._used.add(entry.cell)
                return f"{entry.reason} ({self.source}:{entry.line})"
        return None

    def unused(self) -> list[Entry]:
        """Entries that matched no collected cell: a typo, or a scenario that is gone."""
        return [entry for entry in self.entries if entry.cell not in self._used]


def load(path: str | Path) -> ExpectedFailures:
    document = yamlfile.load(path)
    document.validate(SCHEMA)
    return ExpectedFailures(str(path), tuple(
        Entry(raw["cell"], raw["reason"], document.where((index,))[0])
        for index, raw in enumerate(document.data)))
