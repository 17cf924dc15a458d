"""Authorization codes and tokens whose lifetimes are read from the injected clock.

Both the MIC and the mock providers issue them (through authlib); what differs is who
the grant is for, which each adds in a subclass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin
from authlib.oauth2.rfc6749.errors import InvalidRequestError

from .clock import Clock


@dataclass(kw_only=True)
class ClockedCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(kw_only=True)
class ClockedToken(TokenMixin):
    access_token: str
    refresh_token: str | None
    client_id: str
    scope: str
    issued_at: float
    expires_in: int
    refresh_expires_at: float | None
    clock: Clock = field(repr=False)
    revoked: bool = False

    def check_client(self, client: Any) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.clock.now() >= self.issued_at + self.expires_in

    def is_refresh_expired(self) -> bool:
        return self.refresh_expires_at is not None and self.clock.now() >= self.refresh_expires_at

    def is_revoked(self) -> bool:
        return self.revoked


class EchoSafeErrors:
    """Mixin for authlib authorization servers: bad characters are an error, not a crash.

    authlib builds some error descriptions from the request (``response_type=… is not
    supported``) and raises ValueError when that would put a character RFC 6749 5.2
    forbids in ``error_description``. That is the client's mistake, so it is answered
    as ``invalid_request`` instead of escaping as a 500.
    """

    def get_consent_grant(self, request=None, end_user=None):
        try:
            return super().get_consent_grant(request=request, end_user=end_user)
        except ValueError:
            raise _unechoable() from None

    def create_token_response(self, request=None):
        try:
            return super().create_token_response(request)
        except ValueError:
            return self.handle_error_response(request, _unechoable())


def _unechoable() -> InvalidRequestError:
    return InvalidRequestError("A parameter holds characters that OAuth 2.0 error messages cannot carry.")
