"""``temp_login``: the SDKs' login without a browser (node/js 3.x, Swift, Android, .NET).

The app asks MIC for a ``temp_login_uri`` (POST ``/{v}/oauth/auth``, as a form or, like
Swift, as JSON with Basic app credentials), posts the user's credentials there, and
reads the code from the 302 without following it.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from ..context import Landing, Reply, RunContext, StepFailed
from ..target import Service
from . import Step
from .authorize import VERSIONS, capture_landing
from .flexauth import grown


class TempLogin(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "user": {"type": "string"},
            "username": {"type": "string"},
            "password": {"type": "string"},
            "version": {"enum": VERSIONS},
            "body": {"enum": ["form", "json"], "description": "how the app asks for the URI (default: form)"},
            "client_id": {"type": "string"},
            "redirect_uri": {"type": "string"},
            "state": {"type": "string"},
            "grow": {"type": "object", "additionalProperties": False,
                     "description": "pad the state to this many characters (oversized input)",
                     "properties": {"state": {"type": "integer", "minimum": 1, "maximum": 2_000_000}}},
            "repeat": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "parameters sent a second time, in the query, with these values"},
        },
    }

    @classmethod
    def reaches_upstream(cls, args: dict[str, Any], service: Service) -> bool:
        return True  # a login (or a live IdP session) makes the identity provider issue anew

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        username, password = ctx.credentials(args)
        params = {"client_id": args.get("client_id", ctx.service.client_id(ctx.target.app_key)),
                  "redirect_uri": args.get("redirect_uri", ctx.target.redirect_uri), "response_type": "code"}
        if "state" in args or "grow" in args:
            params["state"] = grown(args.get("state", ""), args.get("grow", {}).get("state"))
        version = args.get("version", "v3")
        url = f"{ctx.target.mic}{'' if version == 'none' else '/' + version}/oauth/auth"
        again = args.get("repeat", {})
        if args.get("body") == "json":
            asked = ctx.http.post(url, json=params, params=again, auth=(params["client_id"], ctx.target.app_secret))
        else:
            asked = ctx.http.post(url, data=params, params=again)
        ctx.reply = Reply.of(asked)
        uri = (ctx.reply.json or {}).get("temp_login_uri") if asked.status_code == 200 else None
        if not isinstance(uri, str):
            ctx.landing = None
            return  # the answer is left for expect to judge
        answer = ctx.http.post(uri, data={**params, "username": username, "password": password, "scope": "openid"},
                               follow_redirects=False)
        ctx.reply = Reply.of(answer)
        if answer.status_code != 302 or "location" not in answer.headers:
            raise StepFailed(f"temp_login: the temp_login_uri answered {answer.status_code}, not exactly 302 "
                             f"({ctx.reply.summary()})", cite="MIC-wire:temp_login_uri")
        location = urljoin(uri, answer.headers["location"])
        ctx.landing = Landing(url=location, at_app=location.startswith(ctx.target.redirect_uri))
        capture_landing(ctx)
