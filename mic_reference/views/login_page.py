"""MIC's own login page, its custom-CSS variant, and the hosted login page it can hand off to.

The page's form is protected against login CSRF by a double-submit token: a cookie
and a hidden field that must match, and whose digest the pending login keeps. A hosted
page (``loginPage.hostedLoginPageUrl``) gets the request's parameters and a signed,
expiring reference to the pending login, which it posts back with the credentials.
"""
from __future__ import annotations

import json
import secrets
from typing import Any, Mapping
from urllib.parse import urlencode

from flask import Response, make_response, redirect, render_template, request, url_for
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from ..vault import Keyring, digest
from .common import LOGIN_TTL, mic, remember

CSRF_COOKIE = "mic_login_csrf"
SIGNING_PURPOSE = "mic hosted login reference"
_SHOWN_PARAMS = ("client_id", "redirect_uri", "response_type", "scope", "state")


def show(client: Any, params: Mapping[str, str], *, error: str | None = None, username: str = "",
         status: int = 200) -> Response:
    """Start a login on MIC's page (or the service's hosted page) for a validated request."""
    page = client.service.login_page
    if "hostedLoginPageUrl" in page:
        ref = remember(params, None)
        shown = {k: params[k] for k in _SHOWN_PARAMS if k in params}
        shown["login_ref"] = sign_ref(mic().vault.keyring, ref, mic().vault.clock.now() + LOGIN_TTL)
        if error:
            shown["login_error"] = error
        return redirect(f"{page['hostedLoginPageUrl']}?{urlencode(shown)}", code=302)
    token = secrets.token_urlsafe(32)
    ref = remember(params, None, csrf_digest=digest(token))
    html = render_template("login.html", action=url_for("authenticate.authenticate", ref=ref), csrf_token=token,
                           css=page.get("customCssUrl"), service=client.service.name, error=error,
                           username=username)
    response = make_response(html, status)
    set_csrf_cookie(response, token)
    return response


def set_csrf_cookie(response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Lax", secure=request.is_secure,
                        path="/oauth/authenticate")


def csrf_ok(csrf_digest: str) -> bool:
    field, cookie = request.form.get("csrf_token", ""), request.cookies.get(CSRF_COOKIE, "")
    return bool(field) and secrets.compare_digest(field, cookie) and secrets.compare_digest(digest(field),
                                                                                            csrf_digest)


def sign_ref(keyring: Keyring, ref: str, expires_at: float) -> str:
    key_id, secret = keyring.derive(SIGNING_PURPOSE)
    payload = json.dumps({"ref": ref, "exp": expires_at}).encode()
    return jws.serialize_compact({"alg": "HS256", "kid": key_id}, payload, OctKey.import_key(secret))


def open_ref(keyring: Keyring, signed: str, now: float) -> str | None:
    """The pending login a hosted page posted back, if the reference is genuine and fresh."""
    def key_for(obj: Any) -> OctKey:
        return OctKey.import_key(keyring.derive(SIGNING_PURPOSE, obj.headers().get("kid"))[1])

    try:
        payload = json.loads(jws.deserialize_compact(signed, key_for, algorithms=["HS256"]).payload)
    except (JoseError, ValueError, KeyError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), (int, float)) or now >= payload["exp"]:
        return None
    return payload.get("ref") if isinstance(payload.get("ref"), str) else None
