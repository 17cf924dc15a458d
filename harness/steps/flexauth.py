"""``flexauth``: speak the FlexAuth contract to the cell's custom auth service directly, as the MIC would.

For what a MIC never sends: a missing or wrong ``X-Auth-Key``, a body that is not the
contract's JSON, input far too big. The cell's service names the auth service
(``flexauth: {url, handler, auth_key}`` in the target); the answer is left for
``expect`` to judge.
"""
from __future__ import annotations

from typing import Any

from ..context import Reply, RunContext, StepFailed
from . import Step

#: what ``grow`` pads a credential with (a name that long is no user's)
PADDING = "x"


def grown(value: str, length: int | None) -> str:
    """``value`` padded to ``length`` characters (oversized input), or as it is."""
    return value if length is None else value + PADDING * max(0, length - len(value))


class FlexAuth(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "user": {"type": "string", "description": "a test user of the target (its password is sent)"},
            "username": {"type": "string"},
            "password": {"type": "string"},
            "key": {"enum": ["right", "wrong", "missing"], "description": "the X-Auth-Key sent (default: right)"},
            "body": {"type": "string", "description": "sent as the body instead of the credentials' JSON"},
            "content_type": {"type": "string", "description": "default: application/json"},
            "grow": {"type": "object", "additionalProperties": False,
                     "description": "pad the username or password to this many characters",
                     "properties": {"username": {"type": "integer", "minimum": 1, "maximum": 4_000_000},
                                    "password": {"type": "integer", "minimum": 1, "maximum": 4_000_000}}},
        },
    }

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        service = ctx.service.flexauth
        if service is None:
            raise StepFailed(f"flexauth: service '{ctx.service.id}' names no custom auth service "
                             "(flexauth: {url, handler, auth_key} in the target)")
        headers = {"Content-Type": args.get("content_type", "application/json"), "Accept": "application/json"}
        match args.get("key", "right"):
            case "right":
                headers["X-Auth-Key"] = service.auth_key
            case "wrong":
                headers["X-Auth-Key"] = f"not-{service.auth_key}"
        url = f"{service.url.rstrip('/')}/_auth/{service.handler}"
        if "body" in args:
            response = ctx.http.post(url, content=args["body"].encode("utf-8"), headers=headers)
        else:
            response = ctx.http.post(url, json=self._payload(ctx, args), headers=headers)
        ctx.reply = Reply.of(response)

    @staticmethod
    def _payload(ctx: RunContext, args: dict[str, Any]) -> dict[str, Any]:
        username, password = ctx.credentials(args)
        grow = args.get("grow", {})
        return {"username": grown(username, grow.get("username")), "password": grown(password, grow.get("password")),
                "options": {}}
