"""The provider's endpoints: authorization (with its login page), token, and the user-id endpoint."""
from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, jsonify, request

from mock_idps.shared import pages

bp = Blueprint("oauth2_provider", __name__)

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
        login = pages.session_login(store, SESSION_COOKIE)
        if login is not None and request.args.get("prompt") != "login":
            return server.create_authorization_response(grant_user=login, grant=grant)
        return pages.login_page(client_id)
    username = request.form.get("username", "")
    user = store.authenticate(username, request.form.get("password", ""))
    if user is None:
        return pages.wrong_password(client_id, username)
    login = store.login(user)
    return pages.keep_session(server.create_authorization_response(grant_user=login, grant=grant),
                              store, login, SESSION_COOKIE)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Ends the IdP session (what an app's logout does not do)."""
    return pages.end_session(jsonify(logged_out=True), _server().store, SESSION_COOKIE)


@bp.route("/oauth/token", methods=["POST"])
def token():
    return _server().server.create_token_response()


@bp.route("/api/me")
def me():
    """The user-id endpoint: who the bearer token belongs to."""
    with _server().protector.acquire() as token:
        user = token.login.user
        return jsonify(id=user.id, username=user.username, **user.attributes)


@bp.route("/")
def index():
    return jsonify(provider="mock-oauth2", authorization_endpoint=request.host_url + "oauth/authorize",
                   token_endpoint=request.host_url + "oauth/token", user_endpoint=request.host_url + "api/me")
