"""RFC 6749 section 5.2 error bodies, with the ``debug`` member MIC adds."""
from __future__ import annotations

import json

from authlib.oauth2 import OAuth2Error


#: for an answer that carries a bearer value or an error about one: kept by no cache (RFC 6749 5.1)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class UpstreamError(OAuth2Error):
    """A connector's refusal or failure, carried to the app as an OAuth2 error."""

    def __init__(self, error: str, description: str, debug: str = "", redirect_uri: str | None = None) -> None:
        self.error = error
        super().__init__(description=description, redirect_uri=redirect_uri)
        # The upstream failed, not the request: 503 when it is away, 502 when it misbehaved.
        self.status_code = {"temporarily_unavailable": 503, "server_error": 502}.get(error, 400)
        self.debug = debug


def json_error(error: OAuth2Error) -> tuple[int, str, list[tuple[str, str]]]:
    headers = [("Content-Type", "application/json"), *NO_STORE.items()]
    if error.status_code == 401:
        headers.append(("WWW-Authenticate", 'Basic realm="mic"'))
    body = {"error": error.error, "error_description": error.description or error.error,
            "debug": getattr(error, "debug", "") or ""}
    return error.status_code, json.dumps(body), headers
