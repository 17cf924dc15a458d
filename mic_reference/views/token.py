"""The token endpoint (RFC 6749 3.2), versioned and unversioned as the SDKs call it."""
from __future__ import annotations

from flask import Blueprint

from .common import VERSION_PREFIXES, mic

bp = Blueprint("token", __name__)


def token():
    return mic().server.create_token_response()


for prefix in VERSION_PREFIXES:
    bp.add_url_rule(f"{prefix}/oauth/token", endpoint=f"token{prefix}", view_func=token, methods=["POST"])
