"""What the endpoints share: the app's state and the versions MIC answers under."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
import httpx2
from flask import Response, current_app, jsonify, request

from .. import upstream
from ..connectors.capabilities import ConnectorError, Identity, serving
from ..oauth.clients import ClientDirectory
from ..oauth.errors import UpstreamError
from ..oauth.limits import REQUEST_FIELDS
from ..oauth.server import MicAuthorizationServer
from ..records import PendingLogin
from ..vault import Vault

#: ``/v1/…``, ``/v2/…``, ``/v3/…`` and the unversioned form all answer (the SDKs use each).
VERSION_PREFIXES = ("", "/v1", "/v2", "/v3")
#: how long a user may take to log in (at the upstream or on MIC's own page)
LOGIN_TTL = 600


@dataclass
class Mic:
    server: MicAuthorizationServer
    clients: ClientDirectory
    vault: Vault
    upstream: httpx2.BaseTransport  # the connectors' shared connection pool
    public_url: str  # where apps and identity providers reach the MIC, without a trailing slash


def mic() -> Mic:
    return current_app.extensions["mic"]


def absolute(path: str) -> str:
    """A URL of the MIC for others to call: from its configured public URL, never the request's Host."""
    return mic().public_url + path


def unknown_login(description: str) -> tuple[Response, int]:
    """A login reference that leads nowhere: nothing to redirect to, so say so (RFC 6749 4.1.2.1)."""
    return jsonify(error="invalid_request", error_description=description, debug=""), 400


def resumed_request(params: Mapping[str, str]) -> OAuth2Request:
    """An authorization request rebuilt from what was stored when it began."""
    resumed = OAuth2Request("GET", absolute("/"))
    resumed.payload = BasicOAuth2Payload(dict(params))
    return resumed


def finish_login(resumed: OAuth2Request, log_in: Callable[[Any], Identity],
                 retry: Callable[[Any, ConnectorError], Response] | None = None,
                 second_factor: Callable[[Any, Identity], Response | None] | None = None) -> Response:
    """Check the stored request again, log the user in with ``log_in(connector)``, issue the code.

    A connector's refusal goes back to the app as an error redirect (RFC 6749 4.1.2.1),
    with the app's state echoed; on a login page, wrong credentials are ``retry(client,
    refusal)``'s to answer instead. ``second_factor(client, identity)`` may interpose
    (a page asking for a TOTP code) by answering instead of the code.
    """
    server, vault = mic().server, mic().vault
    try:
        grant = server.get_consent_grant(request=resumed)
        with serving(grant.client.login_context(request.headers, vault.clock.now(), vault.first_use)):
            identity = log_in(grant.client.connector)
    except OAuth2Error as error:
        return server.handle_error_response(resumed, error)
    except ConnectorError as exc:
        if retry is not None and exc.error == "invalid_grant":
            return retry(grant.client, exc)
        return upstream_refusal(resumed, resumed.payload.data, exc)
    interposed = second_factor(grant.client, identity) if second_factor is not None else None
    if interposed is not None:
        return interposed
    login = vault.open_grant(identity, upstream.expires_at(identity, vault.clock.now()))
    return server.create_authorization_response(request=resumed, grant_user=login, grant=grant)


def upstream_refusal(resumed: OAuth2Request | None, params: Mapping[str, str], exc: ConnectorError) -> Response:
    """A connector's refusal, back to the app as an error redirect with its state (RFC 6749 4.1.2.1)."""
    error = UpstreamError(exc.error, exc.description, exc.debug, redirect_uri=params.get("redirect_uri"))
    error.state = params.get("state")
    return mic().server.handle_error_response(resumed, error)


def remember(params: Mapping[str, str], callback_url: str | None, csrf_digest: str | None = None,
             **second_factor: Any) -> str:
    """Keep an authorization request (what the MIC reads of it) until its login completes; the reference to it."""
    vault = mic().vault
    ref = secrets.token_hex(16)
    kept = {name: params[name] for name in REQUEST_FIELDS if name in params}
    vault.put_pending(PendingLogin(ref=ref, params=kept, callback_url=callback_url,
                                   expires_at=vault.clock.now() + LOGIN_TTL, csrf_digest=csrf_digest,
                                   **second_factor))
    return ref
