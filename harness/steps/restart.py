"""``restart``: the target's supervisor restarts a server (the MIC) between two steps.

Whatever the MIC issued before (codes, access and refresh tokens, backend sessions) must
still work after it: MIC keeps them in its vault, not in memory.
"""
from __future__ import annotations

from ..context import RunContext, StepFailed
from . import Step


class Restart(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"server": {"type": "string", "description": "default: mic"}},
    }
    NEEDS_CONTROL = "supervisor"

    def run(self, ctx: RunContext) -> None:
        server = self.args.get("server", "mic")
        response = ctx.http.post(f"{ctx.target.supervisor}/_control/restart/{server}")
        if response.status_code != 200:
            raise StepFailed(f"restart: the supervisor refused to restart {server} "
                             f"({response.status_code}): {response.text[:200]}")
