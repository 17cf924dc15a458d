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
from ..target import Service

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

    @classmethod
    def observes(cls, args: dict[str, Any]) -> bool:
        """Whether the step only reads what its surfaces show (a request log): where a surface cannot
        be reached, that check alone is skipped as not applicable, not the whole cell."""
        return False

    @classmethod
    def outlives_logins(cls, args: dict[str, Any]) -> bool:
        """For a step that moves the clock: whether the move still holds at the next upstream login."""
        return True

    @classmethod
    def reaches_upstream(cls, args: dict[str, Any], service: "Service") -> bool:
        """Whether the step makes the service's identity provider issue something new (a login, a
        refreshed token), which the MIC then checks against its own clock."""
        return False

    def prepare(self, ctx: RunContext) -> None:
        """Called for every step before the cell's first step runs (e.g. to mark a request log)."""

    def run(self, ctx: RunContext) -> None:
        raise NotImplementedError


@lru_cache(maxsize=1)
def registry() -> dict[str, type[Step]]:
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}
