"""What the MIC remembers between requests: logins in progress, codes and tokens.

Every record carries its expiry as an instant on the injected clock. This store keeps
records in memory; the encrypted, durable vault replaces it behind the same methods.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin

from plumbing.clock import Clock

from .connectors.capabilities import Identity


@dataclass
class PendingLogin:
    """An authorization request waiting for the upstream to come back."""

    ref: str
    client_id: str
    params: Mapping[str, str]
    callback_url: str
    expires_at: float


@dataclass
class IssuedCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    identity: Identity
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    used: bool = False

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class IssuedToken(TokenMixin):
    access_token: str
    refresh_token: str | None
    client_id: str
    scope: str
    identity: Identity
    issued_at: float
    expires_in: int
    refresh_expires_at: float | None
    from_code: str | None
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

    def is_revoked(self) -> bool:
        return self.revoked


class MemoryStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, PendingLogin] = {}
        self._codes: dict[str, IssuedCode] = {}
        self._tokens: dict[str, IssuedToken] = {}

    def put_pending(self, pending: PendingLogin) -> None:
        with self._lock:
            self._pending[pending.ref] = pending

    def take_pending(self, ref: str) -> PendingLogin | None:
        """The login waiting under ``ref``, once: a replayed callback finds nothing."""
        with self._lock:
            pending = self._pending.pop(ref, None)
        if pending is None or self.clock.now() >= pending.expires_at:
            return None
        return pending

    def put_code(self, code: IssuedCode) -> None:
        with self._lock:
            self._codes[code.code] = code

    def redeem_code(self, code: str, client_id: str) -> IssuedCode | None:
        """A live, unused code of this client, marked used.

        RFC 6749 4.1.2: a code used twice is refused, and the tokens issued from it
        are revoked.
        """
        with self._lock:
            found = self._codes.get(code)
            if found is None or found.client_id != client_id:
                return None
            if found.used:
                for token in self._tokens.values():
                    if token.from_code == code:
                        token.revoked = True
                return None
            if self.clock.now() >= found.expires_at:
                return None
            found.used = True
            return found

    def put_token(self, token: IssuedToken) -> None:
        with self._lock:
            self._tokens[token.access_token] = token

    def find_token(self, access_token: str) -> IssuedToken | None:
        with self._lock:
            return self._tokens.get(access_token)
