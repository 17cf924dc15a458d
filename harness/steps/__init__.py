"""Scenario steps: plugins registered by name under the ``mic_harness.steps`` entry point group.

A step class has ``SCHEMA`` (the JSON Schema of its arguments, checked before anything
runs) and ``run(ctx)``. A package adds steps by declaring entry points; the runner
never switches on a step's name.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from ..context import RunContext

GROUP = "mic_harness.steps"


class Step:
    #: JSON Schema of the step's arguments
    SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
    #: what the step needs of the target's control: "clock", "surfaces", "supervisor", or None;
    #: a cell on a target without it is skipped with that reason, not failed
    NEEDS_CONTROL: str | None = None

    def __init__(self, args: dict[str, Any]) -> None:
        self.args = args

    @classmethod
    def surfaces(cls, args: dict[str, Any]) -> set[str]:
        """The control surfaces a step with these arguments addresses (``upstream``: the cell's IdP)."""
        return {args.get("server", "upstream")} if cls.NEEDS_CONTROL == "surfaces" else set()

    def prepare(self, ctx: RunContext) -> None:
        """Called for every step before the cell's first step runs (e.g. to mark a request log)."""

    def run(self, ctx: RunContext) -> None:
        raise NotImplementedError


@lru_cache(maxsize=1)
def registry() -> dict[str, type[Step]]:
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}
