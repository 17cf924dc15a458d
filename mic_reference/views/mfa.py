"""The second factor on MIC's own login page: TOTP (RFC 6238), enrolled at the first login.

After the password, a service with ``mfa: totp`` asks for a code. A user without a
secret gets one to add to an authenticator app and is enrolled when the first code
checks out. Codes are checked against the injected clock, one 30-second step either side, and a code that
was accepted once is not accepted again (RFC 6238 5.2).
"""
from __future__ import annotations

import secrets
from typing import Any, Mapping

import pyotp
from flask import Response, make_response, render_template, request, url_for

from plumbing.totp import matching_step

from ..connectors.capabilities import Identity
from ..records import PendingLogin
from ..vault import digest
from . import login_page
from .common import finish_login, mic, remember, resumed_request

ISSUER = "Kinvey MIC"


def subject(client: Any, identity: Identity) -> str:
    return f"{client.service.key}\n{identity.user_id}"


def challenge(client: Any, params: Mapping[str, str], identity: Identity, *, enrolling: str | None = None,
              error: str | None = None) -> Response | None:
    """The code page for a service that wants a second factor; None when it does not."""
    if client.service.mfa != "totp":
        return None
    if enrolling is None and mic().vault.totp_secret(subject(client, identity)) is None:
        enrolling = pyotp.random_base32()
    token = secrets.token_urlsafe(32)
    ref = remember(params, None, csrf_digest=digest(token), identity=identity, enrolling_secret=enrolling)
    uri = pyotp.TOTP(enrolling).provisioning_uri(name=identity.user_id, issuer_name=ISSUER) if enrolling else None
    html = render_template("totp.html", action=url_for("authenticate.second_factor", ref=ref), csrf_token=token,
                           enrolling=enrolling, uri=uri, error=error, css=client.service.login_page.get("customCssUrl"))
    response = make_response(html, 401 if error else 200)
    login_page.set_csrf_cookie(response, token)
    return response


def verify(pending: PendingLogin) -> Response:
    """The code posted for a pending second factor: the login completes, or the page asks again."""
    identity = pending.identity

    def check(client: Any, _identity: Identity) -> Response | None:
        vault = mic().vault
        who = subject(client, identity)
        secret = pending.enrolling_secret or vault.totp_secret(who)
        step = matching_step(secret, request.form.get("totp_code", "").strip(), vault.clock.now())
        if step is None or not (vault.enroll_totp(who, secret, step) if pending.enrolling_secret
                                else vault.use_totp_step(who, step)):
            return challenge(client, pending.params, identity, enrolling=pending.enrolling_secret,
                             error="That code is not right; try the one your app shows now.")
        return None

    return finish_login(resumed_request(pending.params), lambda connector: identity, second_factor=check)
