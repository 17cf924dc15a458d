"""The authorization endpoint (RFC 6749 4.1.1) and the upstream callbacks that complete it.

GET ``/{v}/oauth/auth`` validates the app's request, remembers it under a random
reference, and sends the browser to the connector's upstream login with that
reference as ``state``. The upstream comes back to the connector's callback path;
the MIC then issues its own code to the app's ``redirect_uri``.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Blueprint, jsonify, redirect, request

from ..connectors.capabilities import ConnectorError
from ..oauth.errors import UpstreamError
from .. import upstream
from ..records import PendingLogin
from .common import VERSION_PREFIXES, mic

#: how long a user may take at the upstream login page
LOGIN_TTL = 600

bp = Blueprint("authorize", __name__)


def authorize():
    server, vault = mic().server, mic().vault
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    connector = grant.client.connector
    ref = secrets.token_hex(16)
    callback_url = request.host_url.rstrip("/") + connector.callback_path
    vault.put_pending(PendingLogin(ref=ref, params=request.args.to_dict(), callback_url=callback_url,
                                   expires_at=vault.clock.now() + LOGIN_TTL))
    return redirect(connector.login_url(callback_url, ref), code=302)


def upstream_callback():
    server, vault = mic().server, mic().vault
    pending = vault.take_pending(request.args.get("state", ""))
    if pending is None or urlsplit(pending.callback_url).path != request.path:
        return jsonify(error="invalid_request", error_description="This login is unknown, expired or already done; "
                                                                  "start again from the app.", debug=""), 400
    resumed = OAuth2Request("GET", request.host_url)
    resumed.payload = BasicOAuth2Payload(dict(pending.params))
    try:
        grant = server.get_consent_grant(request=resumed)
        identity = grant.client.connector.complete(request.args.to_dict(), pending.callback_url)
    except OAuth2Error as error:
        return server.handle_error_response(resumed, error)
    except ConnectorError as exc:
        error = UpstreamError(exc.error, exc.description, exc.debug, redirect_uri=pending.params.get("redirect_uri"))
        error.state = pending.params.get("state")
        return server.handle_error_response(resumed, error)
    login = vault.open_grant(identity, upstream.expires_at(identity, vault.clock.now()))
    return server.create_authorization_response(request=resumed, grant_user=login, grant=grant)


for prefix in VERSION_PREFIXES:
    bp.add_url_rule(f"{prefix}/oauth/auth", endpoint=f"auth{prefix}", view_func=authorize, methods=["GET"])


def add_callback_routes(app, paths: set[str]) -> None:
    """A route for each callback path the configured connectors registered upstream."""
    for path in sorted(paths):
        app.add_url_rule(path, endpoint=f"callback{path}", view_func=upstream_callback, methods=["GET"])
