"""The authorization endpoint (RFC 6749 4.1.1) and the upstream callbacks that complete it.

GET ``/{v}/oauth/auth`` validates the app's request and remembers it under a random
reference. A connector that logs in by redirect gets the browser, with that reference
as ``state``, and comes back to its callback path; one that checks passwords gets
MIC's own login page, which posts to ``/oauth/authenticate/<reference>``. Either way
the MIC then issues its own code to the app's ``redirect_uri``.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, redirect, request

from ..connectors.capabilities import ConnectorError, RedirectLogin, SamlLogin
from . import login_page, saml
from .common import (VERSION_PREFIXES, absolute, finish_login, mic, remember, resumed_request, unknown_login,
                     upstream_refusal)

bp = Blueprint("authorize", __name__)


def authorize():
    server = mic().server
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    connector = grant.client.connector
    params = request.args.to_dict()
    if isinstance(connector, RedirectLogin):
        callback_url = absolute(connector.callback_path)
        try:  # the upstream's endpoints may come from its discovery document, which may fail to come
            return redirect(connector.login_url(callback_url, remember(params, callback_url)), code=302)
        except ConnectorError as exc:
            return upstream_refusal(None, params, exc)
    if isinstance(connector, SamlLogin):
        return saml.begin(connector, params)
    return login_page.show(grant.client, params)


def upstream_callback():
    pending = mic().vault.take_pending(request.args.get("state", ""))
    if pending is None or pending.callback_url is None or urlsplit(pending.callback_url).path != request.path:
        return unknown_login("This login is unknown, expired or already done; start again from the app.")
    return finish_login(resumed_request(pending.params),
                        lambda connector: connector.complete(request.args.to_dict(), pending.callback_url,
                                                           mic().vault.clock.now()))


for prefix in VERSION_PREFIXES:
    bp.add_url_rule(f"{prefix}/oauth/auth", endpoint=f"auth{prefix}", view_func=authorize, methods=["GET"])


def add_callback_routes(app, paths: set[str]) -> None:
    """A route for each callback path the configured connectors registered upstream."""
    for path in sorted(paths):
        app.add_url_rule(path, endpoint=f"callback{path}", view_func=upstream_callback, methods=["GET"])
