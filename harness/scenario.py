"""Scenario files: YAML, checked against a schema before anything runs, expanded into a matrix.

A scenario names the capabilities it needs; it runs once for every service of the
target that has them, and for every driver it lists. Each (service, driver) pair is
a cell, its own test item: ``scenarios/password.yaml::oauth2-password::http``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plumbing import yamlfile
from plumbing.yamlfile import YamlError

from . import steps as step_plugins
from .target import CAPABILITIES, Target

DRIVERS = ["http", "browser"]
SCHEMA_ID = "https://mic-conformance.invalid/schema/scenario.schema.json"
#: the published schema, shipped in the package (``mic-harness schema`` regenerates it)
SCHEMA_FILE = Path(__file__).parent / "schema" / "scenario.schema.json"
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["scenario", "needs", "steps"],
    "properties": {
        "scenario": {"type": "string", "minLength": 1, "description": "what the scenario proves, in a line"},
        "description": {"type": "string"},
        "needs": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": CAPABILITIES}},
        "drivers": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": DRIVERS}},
        "tags": {"type": "array", "uniqueItems": True, "description": "pytest marks (select with -m)",
                 "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
        "skip": {"type": "string", "minLength": 1, "description": "do not run; the reason, shown in reports"},
        "xfail": {"type": "string", "minLength": 1,
                  "description": "expected to fail, for this reason; an unexpected pass fails the run"},
        "steps": {"type": "array", "minItems": 1, "items": {
            "type": "object", "minProperties": 1, "maxProperties": 1,
            "description": "one step: its name, then its arguments"}},
    },
}

ScenarioError = YamlError


@dataclass(frozen=True)
class StepSpec:
    name: str
    args: dict[str, Any]
    line: int | None


@dataclass(frozen=True)
class Scenario:
    path: Path
    title: str
    needs: frozenset[str]
    drivers: tuple[str, ...]
    steps: tuple[StepSpec, ...]
    tags: tuple[str, ...] = ()
    description: str = ""
    skip: str | None = None
    xfail: str | None = None


@dataclass(frozen=True)
class Cell:
    scenario: Scenario
    service: str
    driver: str

    @property
    def id(self) -> str:
        return f"{self.service}::{self.driver}"

    @property
    def location(self) -> str:
        """The scenario file as a person would type it: relative to here when it can be."""
        try:
            return str(self.scenario.path.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(self.scenario.path)


def load(path: str | Path) -> Scenario:
    """The scenario in ``path``, or a ScenarioError naming the file, line and column."""
    path = Path(path)
    document = yamlfile.load(path)
    document.validate(SCHEMA)
    known = step_plugins.registry()
    specs = []
    for index, raw in enumerate(document.data["steps"]):
        (name, args), = raw.items()
        if name not in known:
            raise document.error(("steps", index, name), f"unknown step '{name}'; known steps: "
                                 f"{', '.join(sorted(known))}", at_key=True)
        if args is None:
            raw[name] = args = {}
        document.validate(known[name].SCHEMA, at=("steps", index, name))
        specs.append(StepSpec(name, args, document.key_positions.get(("steps", index, name), (None,))[0]))
    data = document.data
    return Scenario(path=path, title=data["scenario"], needs=frozenset(data["needs"]),
                    drivers=tuple(data.get("drivers", ["http"])), steps=tuple(specs),
                    tags=tuple(data.get("tags", [])), description=data.get("description", ""),
                    skip=data.get("skip"), xfail=data.get("xfail"))


def published_schema() -> dict:
    """The whole scenario language as one JSON Schema, for editors and other tools.

    ``load`` checks a file in two passes (the frame, then each step's arguments) so each
    error is precise; this single document says the same in a form editors understand.
    """
    steps = {name: step.SCHEMA for name, step in sorted(step_plugins.registry().items())}
    step_item = {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
                 "description": "one step: its name, then its arguments", "properties": steps}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "MIC conformance scenario", **SCHEMA,
            "properties": {**SCHEMA["properties"], "steps": {**SCHEMA["properties"]["steps"], "items": step_item}}}


#: how the reason for skipping a cell begins when its service's upstream cannot be controlled
UNCONTROLLED_UPSTREAM = "needs the control surface of its upstream"


def unsupported(scenario: Scenario, target: Target, service: str) -> str | None:
    """Why the target cannot run this scenario on this service (it lacks a control surface), or None.

    Decided step by step: a step that only reads a request log is skipped alone where the log
    cannot be read (the rest of the cell runs); a step that must arm a fault or move a clock
    the target lacks makes the whole cell impossible, and so does moving the MIC's clock
    before a step that has the identity provider issue anew when the provider's clock cannot
    follow and the MIC checks what it issues on its own clock (a vendor's id_tokens and
    assertions would be refused for it, not for anything the scenario means).
    """
    registry = step_plugins.registry()
    steps = [(spec, registry[spec.name]) for spec in scenario.steps]
    wanted = {step.NEEDS_CONTROL for _, step in steps} - {None}
    if "clock" in wanted and not target.clocks:
        return "needs a controllable clock, and the target has none (no control.clocks)"
    if "supervisor" in wanted and not target.supervisor:
        return "needs to restart a server, and the target has no supervisor (control.supervisor)"
    addressed = set().union(*(step.surfaces(spec.args) for spec, step in steps if not step.observes(spec.args)))
    if addressed and not target.surfaces:
        return "needs control surfaces (faults, request logs), and the target has none"
    chosen = target.services[service]
    if "upstream" in addressed and chosen.upstream not in target.surfaces:
        return f"{UNCONTROLLED_UPSTREAM} ('{chosen.upstream or 'none named'}'), which the target does not have"
    missing = sorted(addressed - {"upstream"} - set(target.surfaces))
    if missing:
        return f"needs the control surface of {', '.join(missing)}, which the target does not have"
    if chosen.clocked_upstream and not chosen.upstream_clock:
        return _outruns_upstream(steps, chosen)
    return None


def _outruns_upstream(steps: list, service) -> str | None:
    """Why moving the MIC's clock spoils a later upstream login on this service, or None."""
    moves = [index for index, (spec, step) in enumerate(steps)
             if step.NEEDS_CONTROL == "clock" and step.outlives_logins(spec.args)]
    if not moves:
        return None
    later = [spec for spec, step in steps[moves[0] + 1:] if step.reaches_upstream(spec.args, service)]
    if not later:
        return None
    return (f"{UNCONTROLLED_UPSTREAM} to move its clock with the MIC's: line {steps[moves[0]][0].line} moves the "
            f"MIC's clock and line {later[0].line} has the identity provider issue anew, which the MIC would "
            "judge on its moved clock")


def cells(scenario: Scenario, target: Target) -> list[Cell]:
    """Every (service, driver) the scenario runs as on this target."""
    return [Cell(scenario, service.id, driver)
            for service in target.services.values() if scenario.needs <= service.capabilities
            for driver in scenario.drivers]
