"""Authorization codes and tokens whose lifetimes are read from the injected clock.

Both the MIC and the mock providers issue them (through authlib); what differs is who
the grant is for, which each adds in a subclass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin

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
