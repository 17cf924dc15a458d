"""One issuer's endpoints: discovery, JWKS, authorization (login page, TOTP step, consent,
the IdP session, ``prompt`` and ``max_age``), token, userinfo, introspection, revocation
and end_session. The blueprint is registered once per issuer, under its path prefix."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oidc.core.errors import ConsentRequiredError
from authlib.oidc.core.grants.util import create_response_mode_response
from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from mock_idps.shared import pages

from .fixture import GRANT_TYPES, RESPONSE_TYPES
from .keys import ALG
from .records import STEP_TTL, Pending
from .server import SCOPES, Issuer

bp = Blueprint("oidc_provider", __name__, template_folder="templates")

RESPONSE_MODES = ("query", "fragment", "form_post")


def issuer() -> Issuer:
    return current_app.extensions["oidc_provider"][request.blueprint]


def _cookie(current: Issuer) -> str:
    return "oidc_session" + current.prefix.replace("/", "_")


@bp.route("/.well-known/openid-configuration")
def discovery():
    current = issuer()
    base = current.url
    return jsonify(
        issuer=base, authorization_endpoint=f"{base}/authorize", token_endpoint=f"{base}/token",
        userinfo_endpoint=f"{base}/userinfo", jwks_uri=f"{base}/jwks",
        introspection_endpoint=f"{base}/introspect", revocation_endpoint=f"{base}/revoke",
        end_session_endpoint=f"{base}/logout", scopes_supported=SCOPES, response_types_supported=RESPONSE_TYPES,
        response_modes_supported=list(RESPONSE_MODES), grant_types_supported=GRANT_TYPES,
        subject_types_supported=["public"], id_token_signing_alg_values_supported=[ALG],
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post", "none"],
        code_challenge_methods_supported=["plain", "S256"] if current.store.fixture.pkce_plain else ["S256"],
        prompt_values_supported=["none", "login", "consent"], claims_parameter_supported=False,
        claims_supported=["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "at_hash", "c_hash",
                          "name", "given_name", "family_name", "preferred_username", "email", "email_verified",
                          "address", "phone_number", "phone_number_verified"])


@bp.route("/jwks")
def jwks():
    return jsonify(issuer().keys.jwks())


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    current = issuer()
    server = current.server
    login = _live_session(current)
    try:
        grant = server.get_consent_grant(end_user=login)
        _check_openid_request(grant)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(None, error)
        # RFC 6749 4.1.2.1: never redirect to an unverified URI; tell the user instead.
        return jsonify(error=error.error, error_description=error.description), 400
    if request.method == "POST":
        return _posted(current, grant)
    if login is None or getattr(grant, "prompt", None) == "login":
        return pages.login_page(grant.client.get_client_id())
    return _logged_in(current, grant, login)


def _live_session(current: Issuer):
    """The IdP session's login, unless it is older than the request's ``max_age`` allows."""
    login = pages.session_login(current.store, _cookie(current))
    max_age = request.values.get("max_age")
    if login is not None and max_age is not None and max_age.isdigit():
        if current.store.clock.now() - login.auth_time > int(max_age):
            return None
    return login


def _check_openid_request(grant) -> None:
    payload = grant.request.payload
    fragment = payload.response_type != "code"
    redirect_uri = payload.redirect_uri or grant.client.get_default_redirect_uri()
    if "openid" not in (grant.request.scope or "").split():
        raise InvalidScopeError("This provider serves OpenID Connect only: the scope must include openid.",
                                redirect_uri=redirect_uri, redirect_fragment=fragment)
    mode = payload.data.get("response_mode")
    if mode is not None and mode not in RESPONSE_MODES:
        raise InvalidRequestError(f"response_mode must be one of {', '.join(RESPONSE_MODES)}.",
                                  redirect_uri=redirect_uri, redirect_fragment=fragment)
    if mode == "query" and fragment:
        # OAuth 2.0 Multiple Response Type Encoding Practices 2.1: tokens never travel in a query
        raise InvalidRequestError("response_mode=query cannot carry the tokens this response_type returns.",
                                  redirect_uri=redirect_uri, redirect_fragment=True)
    max_age = payload.data.get("max_age")
    if max_age is not None and not max_age.isdigit():
        raise InvalidRequestError("max_age must be a number of seconds.", redirect_uri=redirect_uri,
                                  redirect_fragment=fragment)


def _posted(current: Issuer, grant) -> Response:
    """The login form, the TOTP step or the consent decision."""
    store, client = current.store, grant.client
    form = request.form
    if "pending" in form:
        held = store.held(form["pending"])
        if held is None:
            return pages.login_page(client.get_client_id(), error="This sign-in took too long; start again.",
                                    status=400)
        if held.login is not None:  # the consent decision
            store.release(form["pending"])
            if form.get("consent") != "allow":
                return _respond(current, grant, None)  # access_denied (RFC 6749 4.1.2.1)
            store.consent(held.user, client, grant.request.scope)
            return _respond(current, grant, held.login)
        if not store.check_totp(held.user, form.get("totp_code", "").strip()):
            return _totp_page(current, form["pending"], held.user, "That code is not right; try the next one.", 401)
        store.release(form["pending"])
        return _start_session(current, grant, store.login(held.user, ("pwd", "otp")))
    username = form.get("username", "")
    user = store.authenticate(username, form.get("password", ""))
    if user is None:
        return pages.wrong_password(client.get_client_id(), username)
    if store.needs_totp(user, client):
        ref = store.hold(Pending(user, store.clock.now() + STEP_TTL))
        return _totp_page(current, ref, user)
    return _start_session(current, grant, store.login(user))


def _totp_page(current: Issuer, ref: str, user, error: str | None = None, status: int = 200):
    return render_template("totp.html", pending=ref, enrolling=current.store.totp_enrolment(user),
                           error=error), status


def _start_session(current: Issuer, grant, login) -> Response:
    response = current_app.make_response(_logged_in(current, grant, login))
    return pages.keep_session(response, current.store, login, _cookie(current))


def _logged_in(current: Issuer, grant, login):
    """A known user: a second factor if this client needs one and the session had none, then
    consent if the client needs it, then the answer."""
    store, client = current.store, grant.client
    prompts = (grant.request.payload.data.get("prompt") or "").split()
    if store.needs_totp(login.user, client) and "otp" not in login.amr:
        return _totp_page(current, store.hold(Pending(login.user, store.clock.now() + STEP_TTL)), login.user)
    scope = grant.request.scope
    if client.spec.consent and ("consent" in prompts or not store.consented(login.user, client, scope)):
        if "none" in prompts:
            payload = grant.request.payload
            error = ConsentRequiredError(redirect_uri=payload.redirect_uri or client.get_default_redirect_uri(),
                                         redirect_fragment=payload.response_type != "code")
            error.state = payload.state
            return current.server.handle_error_response(None, error)
        ref = store.hold(Pending(login.user, store.clock.now() + STEP_TTL, login=login))
        return render_template("consent.html", pending=ref, client_id=client.get_client_id(), scope=scope)
    return _respond(current, grant, login)


def _respond(current: Issuer, grant, login) -> Response:
    """The authorization response, in the response mode the client asked for."""
    response = current.server.create_authorization_response(grant_user=login, grant=grant)
    payload = grant.request.payload
    mode = payload.data.get("response_mode")
    if payload.response_type != "code" or mode not in ("fragment", "form_post") or "Location" not in response.headers:
        return response  # authlib answers in the implicit and hybrid flows' modes itself
    location = urlsplit(response.headers["Location"])
    base = location._replace(query="", fragment="").geturl()
    status, body, headers = create_response_mode_response(base, parse_qsl(location.query), mode)
    return Response(body, status=status, headers=headers)


@bp.route("/token", methods=["POST"])
def token():
    return issuer().server.create_token_response()


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    return issuer().server.create_endpoint_response("userinfo")


@bp.route("/introspect", methods=["POST"])
def introspect():
    return issuer().server.create_endpoint_response("introspection")


@bp.route("/revoke", methods=["POST"])
def revoke():
    return issuer().server.create_endpoint_response("revocation")


@bp.route("/logout", methods=["GET", "POST"])
def end_session():
    """RP-initiated logout: ends the IdP session; goes back only to a URI the client registered."""
    current = issuer()
    target = request.values.get("post_logout_redirect_uri")
    if target is None:
        return pages.end_session(jsonify(logged_out=True), current.store, _cookie(current))
    client_id = request.values.get("client_id") or _audience(current, request.values.get("id_token_hint", ""))
    client = current.store.clients.get(client_id or "")
    if client is None or target not in client.spec.post_logout_redirect_uris:
        return jsonify(error="invalid_request", error_description="post_logout_redirect_uri is not registered "
                       "for the client named by client_id or id_token_hint"), 400
    state = request.values.get("state")
    back = f"{target}{'&' if '?' in target else '?'}{urlencode({'state': state})}" if state else target
    return pages.end_session(redirect(back), current.store, _cookie(current))


def _audience(current: Issuer, id_token: str) -> str | None:
    """The client an id_token of this issuer was issued to (its signature checked, not its age)."""
    try:
        claims = jwt.decode(id_token, KeySet.import_key_set(current.keys.jwks()), algorithms=[ALG]).claims
    except (JoseError, ValueError):
        return None
    if claims.get("iss") != current.url:
        return None
    aud = claims.get("aud")
    return aud[0] if isinstance(aud, list) and len(aud) == 1 else aud if isinstance(aud, str) else None
