"""The defect catalogue (``catalogue.yaml``): each defect one exact edit of a file, checked before anything runs.

A defect's ``find`` must occur exactly once in its file; one that occurs no longer (or
twice) is stale, which the runner reports instead of skipping. ``breaks`` is a cite key
of the requirement catalogue, and ``scenarios`` the files (or cells) run first.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plumbing import yamlfile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CATALOGUE = HERE / "catalogue.yaml"
REQUIREMENTS = ROOT / "harness" / "requirements.yaml"

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["defects"],
    "properties": {"defects": {"type": "array", "minItems": 1, "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "file", "bug", "breaks", "find", "replace", "scenarios"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
            "file": {"type": "string", "pattern": r"^(mic_reference|mock_idps)/[A-Za-z0-9_/]+\.py$"},
            "bug": {"type": "string", "minLength": 10, "description": "the realistic bug, in one line"},
            "breaks": {"type": "string", "minLength": 1, "description": "a cite key of harness/requirements.yaml"},
            "find": {"type": "string", "minLength": 1, "description": "exact text, occurring once in the file"},
            "replace": {"type": "string"},
            "scenarios": {"type": "array", "minItems": 1, "items": {
                "type": "string", "pattern": r"^scenarios/[^:]+\.yaml(::[^:]+::[a-z]+)?$"}},
        },
    }}},
}


@dataclass(frozen=True)
class Defect:
    id: str
    file: str
    bug: str
    breaks: str
    find: str
    replace: str
    scenarios: tuple[str, ...]

    @property
    def package(self) -> str:
        return self.file.split("/", 1)[0]

    def occurrences(self, root: Path) -> int:
        path = root / self.file
        return path.read_text(encoding="utf-8").count(self.find) if path.is_file() else 0

    def apply(self, root: Path) -> None:
        """Make the edit in the copy at ``root`` (never the working tree); the text must occur once."""
        if root.resolve() == ROOT:
            raise ValueError("a defect is never applied to the working tree")
        path = root / self.file
        text = path.read_text(encoding="utf-8")
        if text.count(self.find) != 1:
            raise ValueError(f"{self.id}: the text to find occurs {text.count(self.find)} times in {self.file}")
        path.write_text(text.replace(self.find, self.replace), encoding="utf-8")


def requirement_keys() -> set[str]:
    return set(yamlfile.load(REQUIREMENTS).data["requirements"])


def load(path: Path = CATALOGUE, root: Path = ROOT) -> list[Defect]:
    """The catalogue's defects, its schema, ids, cites and scenario files checked (file:line on a mistake)."""
    document = yamlfile.load(path)
    document.validate(SCHEMA)
    known, seen, defects = requirement_keys(), set(), []
    for index, raw in enumerate(document.data["defects"]):
        where = ("defects", index)
        if raw["id"] in seen:
            raise document.error(where + ("id",), f"defect id {raw['id']} is used twice")
        seen.add(raw["id"])
        if raw["breaks"] not in known:
            raise document.error(where + ("breaks",), f"{raw['breaks']} is not a requirement of "
                                                      f"harness/requirements.yaml")
        for n, cell in enumerate(raw["scenarios"]):
            if not (root / cell.split("::", 1)[0]).is_file():
                raise document.error(where + ("scenarios", n), f"{cell} names no scenario file")
        defects.append(Defect(raw["id"], raw["file"], raw["bug"], raw["breaks"], raw["find"], raw["replace"],
                              tuple(raw["scenarios"])))
    return defects
