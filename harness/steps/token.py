"""``token``: the app calls MIC's token endpoint (RFC 6749 section 3.2) with one grant.

Codes and refresh tokens default to the last ones the app received. ``parallel: N``
sends N such requests at once (N apps logging the same user in together): the answer
``expect`` checks is the first that is not 200, else the last, and two answers carrying
the same access token fail the step.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2

from ..context import Reply, RunContext, StepFailed
from ..target import Service
from . import Step
from .authorize import VERSIONS
from .flexauth import grown


class Token(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "required": ["grant"],
        "properties": {
            "grant": {"enum": ["authorization_code", "password", "refresh_token"]},
            "version": {"enum": VERSIONS},
            "code": {"type": "string", "description": "default: the code the flow brought back"},
            "refresh_token": {"type": "string", "description": "default: the last refresh token received"},
            "redirect_uri": {"type": "string"},
            "user": {"type": "string"},
            "username": {"type": "string"},
            "password": {"type": "string"},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
            "client_auth": {"enum": ["basic", "post", "none"], "description": "default: basic, as the SDKs do"},
            "app": {"type": "string", "description": "authenticate as this peer app of the target (sso-peer, "
                                                     "outsider): its key as the client id, its secret"},
            "secret_of": {"type": "string", "description": "the cell's client id with this peer app's secret"},
            "params": {"type": "object", "additionalProperties": {"type": "string"}},
            "grow": {"type": "object", "additionalProperties": False,
                     "description": "pad the username or password to this many characters (oversized input)",
                     "properties": {"username": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                                    "password": {"type": "integer", "minimum": 1, "maximum": 1_000_000}}},
            "parallel": {"type": "integer", "minimum": 2, "maximum": 32,
                         "description": "send this many such requests at once"},
        },
    }

    @classmethod
    def reaches_upstream(cls, args: dict[str, Any], service: Service) -> bool:
        """The password grant logs in upstream; a refresh does when the MIC refreshes upstream too."""
        grant = args.get("grant", "refresh_token")
        return grant == "password" or (grant == "refresh_token" and "upstream-refresh" in service.capabilities)

    @staticmethod
    def _peer(ctx: RunContext, role: str | None) -> tuple[str | None, str | None]:
        if role is None:
            return None, None
        try:
            return ctx.target.app_credentials(role)
        except KeyError as exc:
            raise StepFailed(f"token: {exc.args[0]}") from None

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        peer_key, peer_secret = self._peer(ctx, args.get("app"))
        client_id = args.get("client_id", peer_key or ctx.service.client_id(ctx.target.app_key))
        form = {"grant_type": args["grant"], "client_id": client_id}
        if args["grant"] == "authorization_code":
            code = args.get("code", ctx.vars.get("code"))
            if code is None:
                stopped = f" (the flow stopped at {ctx.landing.url})" if ctx.landing and not ctx.landing.at_app else ""
                raise StepFailed(f"token: no code was brought back to the app, and none was given{stopped}")
            form |= {"code": code, "redirect_uri": args.get("redirect_uri", ctx.target.redirect_uri)}
        elif args["grant"] == "refresh_token":
            refresh_token = args.get("refresh_token", ctx.vars.get("refresh_token"))
            if refresh_token is None:
                raise StepFailed("token: no refresh token was received, and none was given")
            form["refresh_token"] = refresh_token
            if "redirect_uri" in args:
                form["redirect_uri"] = args["redirect_uri"]
        else:
            username, password = ctx.credentials(args)
            grow = args.get("grow", {})
            form["username"], form["password"] = grown(username, grow.get("username")), grown(password,
                                                                                             grow.get("password"))
        form |= args.get("params", {})
        secret = args.get("client_secret", peer_secret or self._peer(ctx, args.get("secret_of"))[1]
                          or ctx.target.app_secret)
        auth = None
        match args.get("client_auth", "basic"):
            case "basic":
                auth = (client_id, secret)
            case "post":
                form["client_secret"] = secret
        version = args.get("version", "v3")
        prefix = "" if version == "none" else f"/{version}"

        def send(_: int = 0) -> httpx2.Response:
            return ctx.http.post(f"{ctx.target.mic}{prefix}/oauth/token", data=form, auth=auth,
                                 headers={"Accept": "application/json; charset=utf-8"})

        if "parallel" in args:
            with ThreadPoolExecutor(max_workers=args["parallel"]) as pool:
                responses = list(pool.map(send, range(args["parallel"])))
            response = next((r for r in responses if r.status_code != 200), responses[-1])
            answers = [Reply.of(r).json for r in responses if r.status_code == 200]
            issued = [a.get("access_token") for a in answers if isinstance(a, dict)]
            if len(set(issued)) != len(issued):
                raise StepFailed(f"token: {len(issued)} logins at once were given only {len(set(issued))} "
                                 "distinct access tokens", cite="RFC6749-10.10")
        else:
            response = send()
        ctx.reply = Reply.of(response)
        body = ctx.reply.json
        if response.status_code == 200 and isinstance(body, dict):
            ctx.vars.update({k: body[k] for k in ("access_token", "refresh_token") if k in body})
