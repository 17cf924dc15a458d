"""What the IdP remembers: logins in progress, its own login sessions, and TOTP enrolments.

All in memory and on the injected clock, like the OAuth2 mock's store.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from plumbing.clock import Clock
from plumbing.totp import matching_step

from ..shared.sessions import HeldLogins, IdpSessions
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
        self._held: HeldLogins[PendingSso] = HeldLogins(clock)
        self._logged_in: IdpSessions[User] = IdpSessions(clock, fixture.session_ttl)
        self._totp: dict[str, tuple[str, int]] = {}  # username -> (secret, last step used)

    def hold(self, pending: PendingSso) -> str:
        return self._held.hold(pending)

    def peek(self, ref: str) -> PendingSso | None:
        return self._held.peek(ref)

    def release(self, ref: str) -> None:
        self._held.release(ref)

    def authenticate(self, username: str, password: str) -> User | None:
        user = self.fixture.user(username)
        # as bytes: compare_digest refuses str beyond ASCII, and a password may be anything
        return user if user is not None and secrets.compare_digest(user.password.encode(), password.encode()) else None

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
        with self._lock:
            step = matching_step(secret, code, self.clock.now(), self._totp.get(user.username, (secret, -1))[1])
            if step is not None:
                self._totp[user.username] = (secret, step)
        return step is not None
