"""What the MIC remembers between requests: logins in progress, codes and tokens.

Every record carries its expiry as an instant on the injected clock. This store keeps
records in memory; the encrypted, durable vault replaces it behind the same methods.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Mapping

from plumbing.clock import Clock
from plumbing.grants import ClockedCode, ClockedToken

from .connectors.capabilities import Identity


@dataclass
class PendingLogin:
    """An authorization request waiting for the upstream to come back."""

    ref: str
    params: Mapping[str, str]
    callback_url: str
    expires_at: float


@dataclass(kw_only=True)
class IssuedCode(ClockedCode):
    identity: Identity
    used: bool = False


@dataclass(kw_only=True)
class IssuedToken(ClockedToken):
    identity: Identity
    from_code: str | None


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
