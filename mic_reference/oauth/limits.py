"""How much an unauthenticated request may make the MIC read and keep.

Anyone who knows an app key (it ships in every app) can begin a login, and the MIC
keeps the request until the login ends: without a bound, each request could store a
megabyte. Bodies are bounded for every endpoint (Flask's ``MAX_CONTENT_LENGTH``, a 413),
and each parameter of an authorization request the MIC keeps is bounded too.
"""
from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError

#: the largest body any endpoint reads (a SAML Response, an admin API change fit well within)
MAX_BODY = 1024 * 1024
#: the longest value an authorization request parameter may have (characters); state too
MAX_FIELD = 4096
#: what the MIC keeps of an authorization request until its login ends; the rest is ignored (RFC 6749 3.1)
REQUEST_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state",
                  "code_challenge", "code_challenge_method")


def too_long(params: dict[str, Any]) -> str | None:
    """The first kept parameter longer than MAX_FIELD, if any."""
    return next((name for name in REQUEST_FIELDS if len(str(params.get(name) or "")) > MAX_FIELD), None)


class FieldLimits:
    """An authlib grant extension: an authorization request with an overlong parameter is refused."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.check)

    @staticmethod
    def check(grant: Any, redirect_uri: str) -> None:
        name = too_long(grant.request.payload.data)
        if name is not None:
            raise InvalidRequestError(f"'{name}' is longer than {MAX_FIELD} characters.")
