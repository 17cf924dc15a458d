"""What the IdP remembers: logins in progress, its own login sessions, and TOTP enrolments.

All in memory and on the injected clock, like the OAuth2 mock's store.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

import pyotp

from plumbing.clock import Clock

from ..shared.sessions import IdpSessions
from .fixture import Fixture, ServiceProvider, User

#: how long a person may take on the login page
LOGIN_TTL = 600


@dataclass
class PendingSso:
    """An SSO request waiting for its user: whom to answer, where, and in reply to what."""

    sp: ServiceProvider
    acs: str
    request_id: str | None  # None: IdP-initiated
    relay_state: str | None
    name_id_format: str
    expires_at: float
    #: after the password of a user with TOTP: who it is, and a secret being enrolled
    user: User | None = None
    enrolling: str | None = None


class Sessions:
    def __init__(self, fixture: Fixture, clock: Clock) -> None:
        self.fixture = fixture
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, PendingSso] = {}
        self._logged_in: IdpSessions[User] = IdpSessions(clock, fixture.session_ttl)
        self._totp: dict[str, tuple[str, int]] = {}  # username -> (secret, last step used)

    def hold(self, pending: PendingSso) -> str:
        ref = secrets.token_urlsafe(24)
        with self._lock:
            self._pending[ref] = pending
        return ref

    def peek(self, ref: str) -> PendingSso | None:
        with self._lock:
            pending = self._pending.get(ref)
        return pending if pending is not None and self.clock.now() < pending.expires_at else None

    def release(self, ref: str) -> None:
        with self._lock:
            self._pending.pop(ref, None)

    def authenticate(self, username: str, password: str) -> User | None:
        user = self.fixture.user(username)
        return user if user is not None and secrets.compare_digest(user.password, password) else None

    def open_session(self, user: User) -> str:
        """The IdP's own login session, for its cookie."""
        return self._logged_in.open(user)

    def session_user(self, session_id: str) -> User | None:
        return self._logged_in.find(session_id)

    def end_session(self, session_id: str) -> None:
        self._logged_in.end(session_id)

    def totp_secret(self, user: User) -> str | None:
        with self._lock:
            return self._totp[user.username][0] if user.username in self._totp else None

    def check_totp(self, user: User, secret: str, code: str) -> bool:
        """A code for ``secret`` at the clock's time (one step either way), each step used once."""
        totp = pyotp.TOTP(secret)
        now_step = int(self.clock.now() // totp.interval)
        with self._lock:
            last = self._totp.get(user.username, (secret, -1))[1]
            for step in (now_step - 1, now_step, now_step + 1):
                if step > last and secrets.compare_digest(totp.at(step * totp.interval), code):
                    self._totp[user.username] = (secret, step)
                    return True
        return False
