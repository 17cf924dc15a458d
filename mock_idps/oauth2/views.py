"""The provider's endpoints: authorization (with its login page), token, and the user-id endpoint.

A successful login leaves the IdP's own session cookie: a later authorization in the
same browser passes without the login page (unless ``prompt=login``), as real IdPs
do, which is what makes a login survive an app's logout (browser SSO).
"""
from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, jsonify, render_template, request

bp = Blueprint("oauth2_provider", __name__, template_folder="templates")

SESSION_COOKIE = "idp_session"


def _server():
    return current_app.extensions["oauth2_provider"]


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    server, store = _server().server, _server().store
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(None, error)
        # RFC 6749 4.1.2.1: never redirect to an unverified URI; tell the user instead.
        return jsonify(error=error.error, error_description=error.description), 400
    client_id = grant.client.get_client_id()
    if request.method == "GET":
        session_user = store.session_user(request.cookies.get(SESSION_COOKIE, ""))
        if session_user is not None and request.args.get("prompt") != "login":
            return server.create_authorization_response(grant_user=session_user, grant=grant)
        return render_template("login.html", client_id=client_id, error=None, username="")
    username = request.form.get("username", "")
    user = store.authenticate(username, request.form.get("password", ""))
    if user is None:
        return render_template("login.html", client_id=client_id, username=username,
                               error="The username or password is not right."), 401
    response = server.create_authorization_response(grant_user=user, grant=grant)
    response.set_cookie(SESSION_COOKIE, store.open_session(user), httponly=True, samesite="Lax",
                        secure=request.is_secure, max_age=store.fixture.session_ttl)
    return response


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Ends the IdP session (what an app's logout does not do)."""
    _server().store.end_session(request.cookies.get(SESSION_COOKIE, ""))
    response = jsonify(logged_out=True)
    response.delete_cookie(SESSION_COOKIE)
    return response


@bp.route("/oauth/token", methods=["POST"])
def token():
    return _server().server.create_token_response()


@bp.route("/api/me")
def me():
    """The user-id endpoint: who the bearer token belongs to."""
    with _server().protector.acquire() as token:
        user = token.user
        return jsonify(id=user.id, username=user.username, **user.attributes)


@bp.route("/")
def index():
    return jsonify(provider="mock-oauth2", authorization_endpoint=request.host_url + "oauth/authorize",
                   token_endpoint=request.host_url + "oauth/token", user_endpoint=request.host_url + "api/me")
