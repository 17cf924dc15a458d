"""What an identity provider keeps about people signing in: its own login sessions (what
its cookie points at, for ``ttl`` seconds on its clock: a second login in the same
browser passes without a password while one lives, and an app's logout does not end
it), and logins held between two pages (the password, then a TOTP code)."""
from __future__ import annotations

import secrets
import threading
from typing import Generic, Protocol, TypeVar

from plumbing.clock import Clock

Who = TypeVar("Who")


class Expiring(Protocol):
    expires_at: float


Pending = TypeVar("Pending", bound=Expiring)


class IdpSessions(Generic[Who]):
    def __init__(self, clock: Clock, ttl: int) -> None:
        self.clock = clock
        self.ttl = ttl
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[Who, float]] = {}

    def open(self, who: Who) -> str:
        """A new session for ``who``; its id goes into the provider's cookie."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = (who, self.clock.now() + self.ttl)
        return session_id

    def find(self, session_id: str) -> Who | None:
        with self._lock:
            found = self._sessions.get(session_id)
        return found[0] if found is not None and self.clock.now() < found[1] else None

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)


class HeldLogins(Generic[Pending]):
    """Logins between two pages, under a reference the next page posts back, until they expire."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._held: dict[str, Pending] = {}

    def hold(self, pending: Pending) -> str:
        ref = secrets.token_urlsafe(24)
        with self._lock:
            self._held[ref] = pending
        return ref

    def peek(self, ref: str) -> Pending | None:
        with self._lock:
            found = self._held.get(ref)
        return found if found is not None and self.clock.now() < found.expires_at else None

    def release(self, ref: str) -> None:
        with self._lock:
            self._held.pop(ref, None)
