"""The token endpoint (RFC 6749 3.2), versioned and unversioned as the SDKs call it."""
from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Blueprint, request

from .common import VERSION_PREFIXES, mic

bp = Blueprint("token", __name__)


def token():
    # RFC 6749 3.2: a parameter sent twice is refused (5.2), not settled by picking one;
    # authlib checks this at the authorization endpoint only.
    repeated = next((name for name, values in request.values.lists() if len(values) > 1), None)
    if repeated is not None:
        return mic().server.handle_error_response(None, InvalidRequestError(f"Multiple '{repeated}' in request."))
    return mic().server.create_token_response()


for prefix in VERSION_PREFIXES:
    bp.add_url_rule(f"{prefix}/oauth/token", endpoint=f"token{prefix}", view_func=token, methods=["POST"])
