"""Steps that speak to an OpenID provider directly, as a relying party would (no MIC between):
the openid-provider scenarios check a provider, the mock or any other named by a target.

The cell's service names the provider (``provider: {issuer, client_id, client_secret}``);
its endpoints come from its discovery document. ``op_authorize`` sends the browser (or its
HTTP stand-in) with a nonce when asked and PKCE whenever a code is asked for (S256 unless
``pkce`` names the method: RFC 9700 2.1.1 has careful clients use it, and providers such as
oidc-provider require it), and captures what comes back to the redirect URI (``code``,
``id_token``, ``access_token``, ``state``, ``error``); ``op_token`` redeems or refreshes; ``op_userinfo`` reads the user's claims; ``op_id_token`` checks an
id_token as a careful relying party would: signature against the JWKS, ``iss``, ``aud``,
``exp``/``iat`` on the target's clock, ``nonce``, ``at_hash`` and ``c_hash``.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

from authlib.oidc.core import CodeIDToken, HybridIDToken, ImplicitIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..context import Reply, RunContext, StepFailed
from ..target import OpenIDProvider
from . import Step
from .authorize import CAPTURED, capture_landing

_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}


def provider(ctx: RunContext) -> OpenIDProvider:
    if ctx.service.provider is None:
        raise StepFailed(f"service '{ctx.service.id}' names no OpenID provider (provider: {{issuer, client_id}})")
    return ctx.service.provider


def discovery(ctx: RunContext) -> dict[str, Any]:
    """The provider's discovery document, read once per cell; its issuer must be the one configured."""
    if "op_discovery" not in ctx.vars:
        issuer = provider(ctx).issuer.rstrip("/")
        response = ctx.http.get(f"{issuer}/.well-known/openid-configuration")
        ctx.reply = Reply.of(response)
        document = ctx.reply.json
        if response.status_code != 200 or not isinstance(document, dict):
            raise StepFailed(f"discovery: {issuer} answered {response.status_code}: {ctx.reply.summary()}",
                             cite="OIDC-Discovery-4")
        if document.get("issuer") != issuer:
            raise StepFailed(f"discovery: issuer {document.get('issuer')!r} is not {issuer!r}",
                             cite="OIDC-Discovery-4.3")
        ctx.vars["op_discovery"] = document
    return ctx.vars["op_discovery"]


def endpoint(ctx: RunContext, name: str) -> str:
    url = discovery(ctx).get(name)
    if not isinstance(url, str):
        raise StepFailed(f"the discovery document names no {name}", cite="OIDC-Discovery-3")
    return url


class OpDiscovery(Step):
    SCHEMA = {"type": "object", "additionalProperties": False, "properties": {}}

    def run(self, ctx: RunContext) -> None:
        ctx.vars.pop("op_discovery", None)
        discovery(ctx)


class OpAuthorize(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "response_type": {"type": "string", "description": "default: code"},
            "scope": {"type": "string", "description": "default: openid and the provider's scope"},
            "state": {"type": "string"},
            "nonce": {"type": "string"},
            "redirect_uri": {"type": "string", "description": "default: the target app's redirect URI"},
            "pkce": {"enum": ["S256", "plain"], "description": "send a code_challenge (the verifier is kept)"},
            "params": {**_STRINGS, "description": "more query parameters (prompt, response_mode, max_age…)"},
        },
    }

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        op = provider(ctx)
        for name in CAPTURED:
            ctx.vars.pop(name, None)
        query = {"client_id": op.client_id, "response_type": args.get("response_type", "code"),
                 "redirect_uri": args.get("redirect_uri", ctx.target.redirect_uri),
                 "scope": args.get("scope", f"openid {op.scope}")}
        query |= {k: args[k] for k in ("state", "nonce") if k in args}
        ctx.vars.pop("code_verifier", None)
        if "pkce" in args or "code" in query["response_type"].split():
            method = args.get("pkce", "S256")
            verifier = secrets.token_urlsafe(48)
            ctx.vars["code_verifier"] = verifier
            challenge = verifier if method == "plain" else base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            query |= {"code_challenge": challenge, "code_challenge_method": method}
        query |= args.get("params", {})
        ctx.landing = ctx.driver.open(f"{endpoint(ctx, 'authorization_endpoint')}?{urlencode(query)}")
        capture_landing(ctx)


class OpToken(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "required": ["grant"],
        "properties": {
            "grant": {"enum": ["authorization_code", "refresh_token", "password", "client_credentials"]},
            "code": {"type": "string"},
            "refresh_token": {"type": "string"},
            "user": {"type": "string"},
            "scope": {"type": "string"},
            "client_auth": {"enum": ["basic", "post"], "description": "default: basic"},
            "params": _STRINGS,
        },
    }

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        op = provider(ctx)
        form: dict[str, str] = {"grant_type": args["grant"]}
        if args["grant"] == "authorization_code":
            form |= {"code": args.get("code", ctx.vars.get("code", "")), "redirect_uri": ctx.target.redirect_uri}
            if "code_verifier" in ctx.vars:
                form["code_verifier"] = ctx.vars["code_verifier"]
        elif args["grant"] == "refresh_token":
            form["refresh_token"] = args.get("refresh_token", ctx.vars.get("refresh_token", ""))
        elif args["grant"] == "password":
            form["username"], form["password"] = ctx.credentials(args)
        if "scope" in args:
            form["scope"] = args["scope"]
        form |= args.get("params", {})
        auth = None
        if op.client_secret is None:
            form["client_id"] = op.client_id
        elif args.get("client_auth") == "post":
            form |= {"client_id": op.client_id, "client_secret": op.client_secret}
        else:
            auth = (op.client_id, op.client_secret)
        ctx.reply = Reply.of(ctx.http.post(endpoint(ctx, "token_endpoint"), data=form, auth=auth))
        body = ctx.reply.json
        if ctx.reply.status == 200 and isinstance(body, dict):
            ctx.vars.update({k: body[k] for k in ("access_token", "refresh_token", "id_token") if k in body})


class OpUserinfo(Step):
    SCHEMA = {"type": "object", "additionalProperties": False,
              "properties": {"access_token": {"type": "string", "description": "default: the last one received"}}}

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        token = args.get("access_token", ctx.vars.get("access_token"))
        if not token:
            raise StepFailed("op_userinfo: no access token was received, and none was given")
        ctx.reply = Reply.of(ctx.http.get(endpoint(ctx, "userinfo_endpoint"),
                                          headers={"Authorization": f"Bearer {token}"}))


class OpIdToken(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "nonce": {"type": "string", "description": "the nonce the authentication request sent"},
            "flow": {"enum": ["code", "implicit", "hybrid"],
                     "description": "which rules apply (at_hash and c_hash requirements); default: code"},
            "claims": {"type": "object", "description": "claims the id_token must carry, with these values"},
            "cite": {"type": "string"},
        },
    }

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        cite = args.get("cite", "OIDC-Core-3.1.3.7")
        id_token = ctx.vars.get("id_token")
        if not isinstance(id_token, str):
            raise StepFailed("op_id_token: no id_token was received", cite=cite)
        op = provider(ctx)
        jwks = ctx.http.get(endpoint(ctx, "jwks_uri"))
        try:
            keys = KeySet.import_key_set(jwks.json())
            token = jwt.decode(id_token, keys, algorithms=discovery(ctx).get(
                "id_token_signing_alg_values_supported", ["RS256"]))
            kind = {"code": CodeIDToken, "implicit": ImplicitIDToken, "hybrid": HybridIDToken}[args.get("flow", "code")]
            claims = kind(token.claims, token.header,
                          {"iss": {"essential": True, "value": op.issuer.rstrip("/")},
                           "aud": {"essential": True, "value": op.client_id}},
                          {"client_id": op.client_id, "nonce": args.get("nonce"), "code": ctx.vars.get("code"),
                           "access_token": ctx.vars.get("access_token")})
            claims.validate(now=int(ctx.now()), leeway=30)
        except (JoseError, ValueError, TypeError) as exc:
            raise StepFailed(f"op_id_token: refused: {getattr(exc, 'description', None) or exc}", cite=cite) from None
        wrong = {k: claims.get(k) for k, v in args.get("claims", {}).items() if claims.get(k) != v}
        if wrong:
            raise StepFailed(f"op_id_token: claims {wrong} are not {args['claims']}", cite=cite)
