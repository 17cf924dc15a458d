"""``clock``: move the target's virtual clocks (the embedded fleet's servers share one).

``past: token`` moves just beyond the cell's service's token TTL (as the target states
it), ``nearly: token`` to ten seconds short of it, so TTL scenarios hold on any target.

``until: next-login`` says the move matters only to what the MIC issued so far: the clock
is put back before the next step that has the identity provider issue anew (a login, an
upstream refresh). A vendor's provider, whose clock does not move, then sees nothing odd,
where it would otherwise issue id_tokens or assertions the MIC judges on its moved clock.
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
            "until": {"const": "next-login", "description": "put the clock back before the next step that "
                                                          "has the identity provider issue anew"},
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
        if self.args.get("until") == "next-login":
            ctx.rewind_before_upstream()
        ctx.advance_clock(move)

    @classmethod
    def outlives_logins(cls, args: dict) -> bool:
        """Whether this move still holds when the identity provider next issues something."""
        return args.get("until") != "next-login"
