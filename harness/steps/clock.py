"""``clock``: move the target's virtual clocks (the embedded fleet's servers share one)."""
from __future__ import annotations

from ..context import RunContext, StepFailed
from . import Step


class AdvanceClock(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "advance": {"type": "number", "minimum": 0, "description": "seconds"},
            "set": {"type": ["string", "number"], "description": "an ISO 8601 instant or epoch seconds"},
        },
    }

    def run(self, ctx: RunContext) -> None:
        if not ctx.target.clocks:
            raise StepFailed("clock: this target has no controllable clock")
        for name in ctx.target.clocks:
            response = ctx.http.post(f"{ctx.target.surfaces[name]}/_control/clock", json=self.args)
            if response.status_code != 200:
                raise StepFailed(f"clock: {name}'s control surface refused ({response.status_code}): {response.text}")
