"""``authorize``: the app sends the user's browser to MIC's authorization endpoint."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..context import RunContext
from ..target import Service
from . import Step

VERSIONS = ["v1", "v2", "v3", "none"]


class Authorize(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": {"enum": VERSIONS, "description": "MIC API version in the path ('none': unversioned)"},
            "client_id": {"type": "string", "description": "default: appKey.serviceId of the cell's service"},
            "redirect_uri": {"type": "string", "description": "default: the target app's redirect URI"},
            "response_type": {"type": "string"},
            "scope": {"type": "string"},
            "state": {"type": "string"},
            "params": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "more query parameters (e.g. code_challenge)"},
        },
    }

    @classmethod
    def reaches_upstream(cls, args: dict[str, Any], service: Service) -> bool:
        return True  # a login (or a live IdP session) makes the identity provider issue anew

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        query = {
            "client_id": args.get("client_id", ctx.service.client_id(ctx.target.app_key)),
            "redirect_uri": args.get("redirect_uri", ctx.target.redirect_uri),
            "response_type": args.get("response_type", "code"),
            "scope": args.get("scope", "openid"),
        }
        if "state" in args:
            query["state"] = args["state"]
        query.update(args.get("params", {}))
        version = args.get("version", "v3")
        prefix = "" if version == "none" else f"/{version}"
        ctx.landing = ctx.driver.open(f"{ctx.target.mic}{prefix}/oauth/auth?{urlencode(query)}")
        capture_landing(ctx)


#: what a redirect to the app may bring (tokens too, from an OpenID provider's implicit and hybrid flows)
CAPTURED = ("code", "error", "state", "id_token", "access_token")


def capture_landing(ctx: RunContext) -> None:
    """The code (or error, or tokens) is captured as soon as the flow reaches the app."""
    if ctx.landing is not None and ctx.landing.at_app:
        ctx.vars.update({k: v for k, v in ctx.landing.params.items() if k in CAPTURED})
