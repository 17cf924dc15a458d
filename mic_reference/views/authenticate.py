"""MIC's own login: the ``temp_login_uri`` flow of the SDKs and the login page's form.

POST ``/{v}/oauth/auth`` (form, or JSON as Swift sends it) validates an authorization
request and answers ``{"temp_login_uri": …}``; the client then posts the user's
credentials there and reads the code from an exactly-302 answer (it does not follow
redirects). MIC's login page posts to the same place.
"""
from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError
from flask import Blueprint, jsonify, request, url_for

from ..connectors.capabilities import PasswordLogin
from ..oauth.errors import json_error
from .common import VERSION_PREFIXES, finish_login, mic, remember, resumed_request

bp = Blueprint("authenticate", __name__)

_REQUEST_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state",
                   "code_challenge", "code_challenge_method")


def temp_login_uri():
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    params = {k: v for k, v in {**request.args.to_dict(), **(body if isinstance(body, dict) else {})}.items()
              if k in _REQUEST_FIELDS and isinstance(v, str)}
    try:
        grant = mic().server.get_consent_grant(request=resumed_request(params))
        _check_basic_auth(grant.client)
    except OAuth2Error as error:
        return mic().server.handle_response(*json_error(error))
    if not isinstance(grant.client.connector, PasswordLogin):
        return jsonify(error="unauthorized_client", debug="",
                       error_description="This auth service logs users in at its identity provider; "
                                         "use the browser flow (GET /oauth/auth)."), 400
    ref = remember(params, None)
    return jsonify(temp_login_uri=url_for("authenticate.authenticate", ref=ref, _external=True))


def _check_basic_auth(client) -> None:
    """Swift sends Basic appKey:appSecret here; when credentials come, they must be right."""
    auth = request.authorization
    if auth is None:
        return
    if auth.type != "basic" or auth.username not in (client.get_client_id(), client.environment.app_key) \
            or not client.check_client_secret(auth.password or ""):
        raise InvalidClientError("The app key and secret do not match.", status_code=401)


def authenticate(ref: str):
    pending = mic().vault.take_pending(ref)
    if pending is None or pending.callback_url is not None:
        return jsonify(error="invalid_request", debug="",
                       error_description="This login is unknown, expired or already done; start again."), 400
    for name in ("client_id", "redirect_uri"):
        if name in request.form and request.form[name] != pending.params.get(name):
            return jsonify(error="invalid_request", debug="",
                           error_description=f"{name} differs from the one this login began with."), 400
    username, password = request.form.get("username", ""), request.form.get("password", "")
    return finish_login(resumed_request(pending.params),
                        lambda connector: connector.password_login(username, password))


for prefix in VERSION_PREFIXES:
    bp.add_url_rule(f"{prefix}/oauth/auth", endpoint=f"temp{prefix}", view_func=temp_login_uri, methods=["POST"])
bp.add_url_rule("/oauth/authenticate/<ref>", endpoint="authenticate", view_func=authenticate, methods=["POST"])
