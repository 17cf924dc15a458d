"""``clock``: move the target's virtual clocks (the embedded fleet's servers share one).

``past: token`` moves just beyond the cell's service's token TTL (as the target states
it), ``nearly: token`` to ten seconds short of it, so TTL scenarios hold on any target.
"""
from __future__ import annotations

from ..context import RunContext, StepFailed
from ..target import TTL_KINDS
from . import Step


class AdvanceClock(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "advance": {"type": "number", "minimum": 0, "description": "seconds"},
            "set": {"type": ["string", "number"], "description": "an ISO 8601 instant or epoch seconds"},
            "past": {"enum": list(TTL_KINDS), "description": "advance one second beyond this TTL"},
            "nearly": {"enum": list(TTL_KINDS), "description": "advance to ten seconds short of this TTL"},
        },
    }
    MARGIN = 10
    NEEDS_CONTROL = "clock"

    def run(self, ctx: RunContext) -> None:
        move = {k: v for k, v in self.args.items() if k in ("advance", "set")}
        for key, offset in (("past", 1), ("nearly", -self.MARGIN)):
            if key in self.args:
                kind = self.args[key]
                if kind not in ctx.service.ttl:
                    raise StepFailed(f"clock: the target does not say how long a {kind} lives on {ctx.service.id}")
                move["advance"] = move.get("advance", 0) + ctx.service.ttl[kind] + offset
        ctx.advance_clock(move)
