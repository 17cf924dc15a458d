"""OAuth WRAP v0.9's Access Token URL on the SAML IdP: a password in, a signed SAML assertion out.

The messages are those of WRAP 0.9.7.2 / draft-hardt-oauth-01 5.1: a form ``POST`` (3.1:
never another method) of ``wrap_name``, ``wrap_password`` and ``wrap_scope``, the scope
being a service provider's entity id, which becomes the assertion's audience. Success is a
form-encoded ``wrap_access_token`` (the signed assertion's XML) and
``wrap_access_token_expires_in`` (its conditions' window), with no refresh token: a new
password login gets a new one. Credentials that do not verify are 401 with
``WWW-Authenticate: WRAP`` (5.1.4); so is an account whose second factor a password
alone cannot give. What is not a request of this profile (not a form, a required
parameter missing or sent twice, a scope this IdP does not issue for) is 400. Errors say
why in ``error_description``: ``wrap_`` names are the protocol's (7.5). Parameter names
are case-sensitive and unknown ones ignored (7.6). Tamper mutations armed on the control
surface spoil the next token where they apply to a bare assertion.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from flask import Blueprint, Response, current_app, request

from .idp import Idp
from .tampering import TamperError

ACCESS_TOKEN_URL = "/wrap/access_token"
FORM = "application/x-www-form-urlencoded"
_REQUIRED = ("wrap_name", "wrap_password", "wrap_scope")

bp = Blueprint("saml_wrap", __name__)


class BadRequest(Exception):
    pass


def _form_answer(status: int, fields: dict[str, str], **headers: str) -> Response:
    """WRAP 7.1: every parameter of an answer is in its body, form-encoded."""
    answer = Response(urlencode(fields), status=status, mimetype=FORM)
    answer.headers["Cache-Control"] = "no-store"
    answer.headers.update(headers)
    return answer


def _parameters() -> dict[str, str]:
    if request.mimetype != FORM:
        raise BadRequest(f"the request must be a form ({FORM}), not {request.mimetype or 'without a type'}")
    try:
        form = parse_qs(request.get_data(as_text=True), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the form is not UTF-8") from None
    for name in _REQUIRED:
        values = form.get(name, [])
        if len(values) > 1:
            raise BadRequest(f"{name} is sent more than once")
        if not values or not values[0]:
            raise BadRequest(f"{name} is required")
    return {name: form[name][0] for name in _REQUIRED}


@bp.post(ACCESS_TOKEN_URL)
def access_token():
    idp: Idp = current_app.extensions["saml_idp"]
    try:
        params = _parameters()
    except BadRequest as exc:
        return _form_answer(400, {"error_description": str(exc)})
    sp = idp.fixture.service_provider(params["wrap_scope"])
    if sp is None:
        return _form_answer(400, {"error_description": f"wrap_scope {params['wrap_scope']} is not a scope "
                                                       "this authorization server issues tokens for"})
    user = idp.sessions.authenticate(params["wrap_name"], params["wrap_password"])
    if user is None:
        return _form_answer(401, {"error_description": "the name or password does not verify"},
                            **{"WWW-Authenticate": "WRAP"})
    if user.totp:
        return _form_answer(401, {"error_description": "this account needs a second factor, which a password "
                                                       "alone cannot give"}, **{"WWW-Authenticate": "WRAP"})
    try:
        token, lifetime = idp.wrap_token(request.host_url.rstrip("/"), sp, user)
    except TamperError as exc:
        return _form_answer(409, {"error_description": f"the armed tamper could not apply: {exc}"})
    return _form_answer(200, {"wrap_access_token": token, "wrap_access_token_expires_in": str(lifetime)})
