"""Profiles: the named sets of scenarios a MIC or a connector type must pass to be certified.

A profile file (``harness/profiles/<name>.yaml``) lists scenario files by glob, relative
to the bundled ``scenarios/`` directory; it may restrict the matrix to some connector
types, and may mark scenarios optional, whose failures are reported but do not refuse
certification.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from plumbing import yamlfile

DIRECTORY = Path(__file__).parent / "profiles"
#: the bundled conformance suite, beside the package
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
_GLOBS = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["profile", "description", "scenarios"],
    "properties": {
        "profile": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "description": {"type": "string"},
        "scenarios": {**_GLOBS, "description": "scenario files, as globs under scenarios/"},
        "optional": {**_GLOBS, "description": "scenarios whose failure does not refuse certification"},
        "connectors": {"type": "array", "minItems": 1, "items": {"type": "string"},
                       "description": "only cells of services with these connector types"},
        "upstream": {"type": "array", "minItems": 1, "items": {"type": "string"},
                     "description": "the embedded fleet's members a vendor's server may stand in for "
                                    "(--connector-url); the first unless the declaration says which"},
    },
}


class UnknownProfile(LookupError):
    pass


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    scenarios: tuple[str, ...]
    optional: tuple[str, ...] = ()
    connectors: tuple[str, ...] | None = None
    upstream: tuple[str, ...] = ()

    def files(self, root: Path = SCENARIOS) -> list[Path]:
        """The scenario files the profile takes, in a stable order."""
        return sorted({path for pattern in self.scenarios for path in root.glob(pattern) if path.is_file()})

    def takes(self, relative: str, connector: str) -> bool:
        """Whether a cell (its scenario file relative to scenarios/, its connector) belongs here."""
        return any(fnmatchcase(relative, p) for p in self.scenarios) and self.takes_connector(connector)

    def takes_connector(self, connector: str) -> bool:
        return self.connectors is None or connector in self.connectors

    def required(self, relative: str) -> bool:
        return not any(fnmatchcase(relative, p) for p in self.optional)


def load(name: str) -> Profile:
    path = DIRECTORY / f"{name}.yaml"
    if not path.is_file():
        raise UnknownProfile(f"no profile '{name}' (profiles: {', '.join(available()) or 'none'})")
    document = yamlfile.load(path)
    document.validate(SCHEMA)
    data = document.data
    if data["profile"] != name:
        raise document.error(("profile",), f"the profile in {path.name} must be named '{name}'")
    connectors = data.get("connectors")
    return Profile(name, data["description"], tuple(data["scenarios"]), tuple(data.get("optional", ())),
                   tuple(connectors) if connectors else None, tuple(data.get("upstream", ())))


def available() -> list[str]:
    return sorted(path.stem for path in DIRECTORY.glob("*.yaml"))


def relative_to_suite(path: Path) -> str | None:
    """A scenario file's path under scenarios/ (posix), or None when it lies elsewhere."""
    try:
        return path.resolve().relative_to(SCENARIOS).as_posix()
    except ValueError:
        return None
