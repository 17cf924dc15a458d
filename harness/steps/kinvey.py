"""``kinvey``: what the SDKs do with MIC tokens at the Kinvey backend (the BaaS host).

``login`` (and ``signup``) post the last MIC tokens as ``_socialIdentity.kinveyAuth``
and keep the session's authtoken; ``me``, ``data``, ``datalink-echo`` and ``logout``
call with ``Authorization: Kinvey <authtoken>``.
"""
from __future__ import annotations

from ..context import Reply, RunContext, StepFailed
from . import Step

CALLS = ["login", "signup", "me", "data", "datalink-echo", "logout"]


class Kinvey(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "required": ["call"],
        "properties": {
            "call": {"enum": CALLS},
            "collection": {"type": "string", "description": "for data calls (default: books)"},
            "authtoken": {"type": "string", "description": "default: the session of the last login"},
            "app": {"type": "string", "description": "a peer app of the target (sso-peer, outsider) "
                                                     "instead of the target's own app"},
        },
    }

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        try:
            app_key, app_secret = ctx.target.app_credentials(args.get("app"))
        except KeyError as exc:
            raise StepFailed(f"kinvey: {exc.args[0]}") from None
        base, call = ctx.target.baas, args["call"]
        if call in ("login", "signup"):
            if "access_token" not in ctx.vars:
                raise StepFailed("kinvey: no MIC tokens to log in with (run a token step first)")
            tokens = {k: ctx.vars[k] for k in ("access_token", "refresh_token") if k in ctx.vars}
            body = {"_socialIdentity": {"kinveyAuth": {**tokens, "client_id": ctx.service.client_id(ctx.target.app_key),
                                                       "redirect_uri": ctx.target.redirect_uri}}}
            path = f"/user/{app_key}/login" if call == "login" else f"/user/{app_key}"
            response = ctx.http.post(base + path, json=body, auth=(app_key, app_secret))
            ctx.reply = Reply.of(response)
            if response.status_code in (200, 201) and isinstance(ctx.reply.json, dict):
                ctx.vars["authtoken"] = ctx.reply.json.get("_kmd", {}).get("authtoken")
            return
        authtoken = args.get("authtoken", ctx.vars.get("authtoken"))
        if authtoken is None:
            raise StepFailed(f"kinvey: no session for '{call}' (run kinvey login first)")
        headers = {"Authorization": f"Kinvey {authtoken}"}
        if call == "logout":
            response = ctx.http.post(f"{base}/user/{app_key}/_logout", headers=headers)
        else:
            path = {"me": f"/user/{app_key}/_me", "datalink-echo": f"/appdata/{app_key}/datalink-echo",
                    "data": f"/appdata/{app_key}/{args.get('collection', 'books')}"}[call]
            response = ctx.http.get(base + path, headers=headers)
        ctx.reply = Reply.of(response)
