"""``fault``: arm a fault on a server of the target (through its control surface).

On a directory (an LDAP server's control surface) the path names the operation
(``/connect``, ``/bind``, ``/search``) and ``result`` an LDAP result code to answer with.

``server`` names a control surface, or ``upstream`` for the identity provider behind the
cell's service. The fault lasts ``times`` requests, or until the cell ends (the runner
clears every fault between cells).
"""
from __future__ import annotations

from ..context import RunContext, StepFailed
from . import Step


class ArmFault(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "required": ["server", "path"],
        "properties": {
            "server": {"type": "string", "description": "a control surface of the target, or 'upstream'"},
            "path": {"type": "string", "pattern": "^/", "description": "request path or glob"},
            "method": {"type": "string"},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "body": {},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "delay": {"type": "number", "minimum": 0},
            "drop": {"type": "boolean"},
            "result": {"type": ["integer", "string"],
                       "description": "a directory's LDAP result code to answer with: busy, unavailable, … or a number"},
            "message": {"type": "string", "description": "the diagnostic message sent with result"},
            "times": {"type": "integer", "minimum": 1},
        },
    }
    NEEDS_CONTROL = "surfaces"

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        spec = {k: v for k, v in args.items() if k != "server"}
        surface = ctx.surface(args["server"])
        response = ctx.http.post(f"{surface}/_control/faults", json=spec)
        if response.status_code != 201:
            raise StepFailed(f"fault: {args['server']} refused it ({response.status_code}): {response.text}")
        ctx.armed.add(surface)
