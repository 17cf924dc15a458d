"""``revoke_upstream``: a test user takes back what they gave an app at their identity
provider (removes the app, or changes their password), through the provider's control
surface (``/_control/revoke``): their upstream tokens stop working, and a removed app asks
for its permissions again at the next login.

The provider forgets every permission decision when the cell's faults are cleared, so
a cell that declined a permission leaves nothing behind for the next one.
"""
from __future__ import annotations

from ..context import RunContext, StepFailed
from . import Step


class RevokeUpstream(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "required": ["user"],
        "properties": {
            "user": {"type": "string", "description": "a test user of the target"},
            "reason": {"enum": ["deauthorized", "password_changed"],
                       "description": "the user removed the app (default), or changed their password"},
            "server": {"type": "string", "description": "a control surface; default 'upstream', the cell's IdP"},
        },
    }
    NEEDS_CONTROL = "surfaces"

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        surface = ctx.surface(args.get("server", "upstream"))
        response = ctx.http.post(f"{surface}/_control/revoke",
                                 json={"user": args["user"], "reason": args.get("reason", "deauthorized")})
        if response.status_code != 200:
            raise StepFailed(f"revoke_upstream: {args.get('server', 'upstream')} refused it "
                             f"({response.status_code}): {response.text[:300]}")
        ctx.armed.add(surface)
