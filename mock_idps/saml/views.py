"""The IdP's endpoints: metadata, single sign-on (HTTP-Redirect and HTTP-POST bindings for
the AuthnRequest; the Response always by HTTP-POST), its login and TOTP pages, an
IdP-initiated login, and single logout.

The AuthnRequest is checked strictly before anyone is asked for a password: a known
SP, one of that SP's registered assertion consumers, this IdP as Destination, and an
IssueInstant that is neither stale nor in the future on the clock.
"""
from __future__ import annotations

import base64
import binascii
import calendar
import time
import zlib

import pyotp
from flask import Blueprint, Response, current_app, render_template, request
from saml2 import samlp

from ..shared import pages
from .idp import NAME_ID_FORMATS, SSO_POST, SSO_REDIRECT, Idp
from .sessions import LOGIN_TTL, PendingSso
from .tampering import TamperError

bp = Blueprint("saml_idp", __name__, template_folder="templates")

SESSION_COOKIE = "saml_idp_session"
#: an AuthnRequest may be this many seconds ahead of the IdP's clock
SKEW = 60


class BadRequest(Exception):
    pass


def _idp() -> Idp:
    return current_app.extensions["saml_idp"]


def _base() -> str:
    return request.host_url.rstrip("/")


def _page(message: str, status: int) -> tuple[str, int]:
    return render_template("message.html", message=message), status


@bp.get("/saml/metadata")
def metadata():
    return Response(_idp().metadata(_base()), mimetype="application/samlmetadata+xml")


@bp.get(SSO_REDIRECT)
def sso_redirect():
    return _single_sign_on(request.args, deflated=True)


@bp.post(SSO_POST)
def sso_post():
    return _single_sign_on(request.form, deflated=False)


def _single_sign_on(params, *, deflated: bool):
    try:
        pending = _pending_from(params, deflated)
    except BadRequest as exc:
        return _page(f"This sign-in request is refused: {exc}", 400)
    return _login_or_answer(pending)


def _login_or_answer(pending: PendingSso):
    idp = _idp()
    user = idp.sessions.session_user(request.cookies.get(SESSION_COOKIE, ""))
    if user is not None:
        return _answer(pending, user, mfa=False)
    ref = idp.sessions.hold(pending)
    return pages.login_page(pending.sp.entity_id, action=f"/saml/login/{ref}")


def _pending_from(params, deflated: bool) -> PendingSso:
    idp = _idp()
    encoded = params.get("SAMLRequest")
    if not encoded:
        raise BadRequest("SAMLRequest is missing")
    try:
        raw = base64.b64decode(encoded, validate=not deflated)
        xml = zlib.decompress(raw, -15) if deflated else raw
        authn = samlp.authn_request_from_string(xml.decode("utf-8"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"SAMLRequest is not a readable AuthnRequest ({type(exc).__name__})") from None
    except Exception as exc:  # defusedxml's refusals (DTDs, entities) and pysaml2's parse errors
        raise BadRequest(f"SAMLRequest is not a readable AuthnRequest ({type(exc).__name__})") from None
    if authn is None or not authn.id:
        raise BadRequest("SAMLRequest is not an AuthnRequest")
    issuer = authn.issuer.text.strip() if authn.issuer is not None and authn.issuer.text else ""
    sp = idp.fixture.service_provider(issuer)
    if sp is None:
        raise BadRequest(f"the issuer {issuer or '(none)'} is not a service provider this IdP knows")
    acs = authn.assertion_consumer_service_url or sp.acs[0]
    if acs not in sp.acs:
        raise BadRequest(f"{acs} is not an assertion consumer registered for {issuer}")
    expected = _base() + (SSO_REDIRECT if deflated else SSO_POST)
    if authn.destination and authn.destination != expected:
        raise BadRequest(f"the request is addressed to {authn.destination}, not to {expected}")
    _check_instant(authn.issue_instant)
    policy = authn.name_id_policy
    name_id_format = policy.format if policy is not None and policy.format else NAME_ID_FORMATS[0]
    if name_id_format not in NAME_ID_FORMATS:
        raise BadRequest(f"NameID format {name_id_format} is not one this IdP issues")
    return PendingSso(sp=sp, acs=acs, request_id=authn.id, relay_state=params.get("RelayState"),
                      name_id_format=name_id_format, expires_at=idp.clock.now() + LOGIN_TTL)


def _check_instant(value: str | None) -> None:
    try:
        issued = calendar.timegm(time.strptime((value or "").split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        raise BadRequest(f"IssueInstant {value!r} is not an xs:dateTime in UTC") from None
    now = _idp().clock.now()
    if issued > now + SKEW:
        raise BadRequest("the request was issued in the future")
    if issued < now - _idp().fixture.request_ttl:
        raise BadRequest("the request is too old")


@bp.post("/saml/login/<ref>")
def login(ref: str):
    idp = _idp()
    pending = idp.sessions.peek(ref)
    if pending is None or pending.user is not None:
        return _page("This sign-in is unknown, expired or already done; start again.", 400)
    username = request.form.get("username", "")
    user = idp.sessions.authenticate(username, request.form.get("password", ""))
    if user is None:
        return pages.wrong_password(pending.sp.entity_id, username, action=f"/saml/login/{ref}")
    if not user.totp:
        idp.sessions.release(ref)
        return _answer(pending, user, mfa=False, new_session=True)
    pending.user = user
    secret = idp.sessions.totp_secret(user)
    if secret is None:
        pending.enrolling = pyotp.random_base32()
    return render_template("totp.html", ref=ref, enrolling=pending.enrolling, error=None)


@bp.post("/saml/login/<ref>/totp")
def second_factor(ref: str):
    idp = _idp()
    pending = idp.sessions.peek(ref)
    if pending is None or pending.user is None:
        return _page("This second step is unknown, expired or already done; start again.", 400)
    secret = pending.enrolling or idp.sessions.totp_secret(pending.user)
    if not idp.sessions.check_totp(pending.user, secret, request.form.get("totp_code", "").strip()):
        return render_template("totp.html", ref=ref, enrolling=pending.enrolling,
                               error="That code is not right; try the next one."), 401
    idp.sessions.release(ref)
    return _answer(pending, pending.user, mfa=True, new_session=True)


@bp.route("/saml/idp-initiated", methods=["GET", "POST"])
def idp_initiated():
    """An unsolicited Response to a known SP (``sp`` its entity id): what the MIC must refuse."""
    sp = _idp().fixture.service_provider(request.values.get("sp", ""))
    if sp is None:
        return _page("sp must name a service provider this IdP knows.", 400)
    acs = request.values.get("acs", sp.acs[0])
    if acs not in sp.acs:
        return _page(f"{acs} is not an assertion consumer registered for {sp.entity_id}", 400)
    return _login_or_answer(PendingSso(sp=sp, acs=acs, request_id=None, relay_state=request.values.get("RelayState"),
                                       name_id_format=NAME_ID_FORMATS[0],
                                       expires_at=_idp().clock.now() + LOGIN_TTL))


def _answer(pending: PendingSso, user, *, mfa: bool, new_session: bool = False):
    """The auto-posting form that carries the Response to the SP's assertion consumer."""
    idp = _idp()
    try:
        xml, relay_state = idp.respond(_base(), pending, user, mfa)
    except TamperError as exc:
        return _page(f"The armed tamper could not apply: {exc}", 409)
    body = render_template("post.html", acs=pending.acs, relay_state=relay_state,
                           saml_response=base64.b64encode(xml.encode()).decode())
    response = Response(body, mimetype="text/html")
    if new_session:
        response.set_cookie(SESSION_COOKIE, idp.sessions.open_session(user), httponly=True, samesite="Lax",
                            secure=request.is_secure, max_age=idp.fixture.session_ttl)
    return response


@bp.route("/saml/slo", methods=["GET", "POST"])
@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Ends the IdP session (what an app's logout, and the MIC, never do)."""
    _idp().sessions.end_session(request.cookies.get(SESSION_COOKIE, ""))
    response = Response(render_template("message.html", message="You are signed out of the IdP."),
                        mimetype="text/html")
    response.delete_cookie(SESSION_COOKIE)
    return response
