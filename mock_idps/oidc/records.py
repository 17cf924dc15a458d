"""What an OpenID issuer keeps beyond the shared records: consents, TOTP enrolments, and
logins half done (password checked, a TOTP code or consent still to come)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp

from mock_idps.shared.fixture import UserSpec
from mock_idps.shared.records import Client, Login, Store
from mock_idps.shared.sessions import HeldLogins
from plumbing.totp import matching_step

#: how long a person may take between the password and the next step
STEP_TTL = 600


class OidcClient(Client):
    #: what authlib's userinfo endpoint reads (no signed userinfo here)
    client_metadata: dict[str, Any] = {}

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.spec.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.spec.grant_types


@dataclass
class Pending:
    """A login between its steps."""

    user: UserSpec
    expires_at: float
    login: Login | None = None  # set once every factor is done (consent is what remains)


class OidcStore(Store):
    def __init__(self, fixture, clock) -> None:
        super().__init__(fixture, clock, OidcClient)
        self._consents: set[tuple[str, str, str]] = set()
        self._held: HeldLogins[Pending] = HeldLogins(clock)
        self._totp: dict[str, tuple[str, bool, int]] = {}  # username -> (secret, enrolled, last step)

    def needs_totp(self, user: UserSpec, client: OidcClient) -> bool:
        return user.totp or client.spec.mfa

    # -- logins between steps ------------------------------------------------------

    def hold(self, pending: Pending) -> str:
        return self._held.hold(pending)

    def held(self, ref: str) -> Pending | None:
        return self._held.peek(ref)

    def release(self, ref: str) -> None:
        self._held.release(ref)

    # -- TOTP (RFC 6238), enrolled at the first login that asks for it -------------

    def totp_enrolment(self, user: UserSpec) -> str | None:
        """The secret to show when the user has never used one, else None."""
        with self._lock:
            secret, enrolled, last = self._totp.setdefault(user.username, (pyotp.random_base32(), False, -1))
        return None if enrolled else secret

    def check_totp(self, user: UserSpec, code: str) -> bool:
        """A code of the current time step or a neighbour, each step's code good once (RFC 6238 5.2)."""
        with self._lock:
            secret, _, last = self._totp.get(user.username, ("", False, -1))
            step = matching_step(secret, code, self.clock.now(), last)
            if step is not None:
                self._totp[user.username] = (secret, True, step)
        return step is not None

    # -- consent ---------------------------------------------------------------------

    def consented(self, user: UserSpec, client: OidcClient, scope: str) -> bool:
        with self._lock:
            return (user.username, client.get_client_id(), scope) in self._consents

    def consent(self, user: UserSpec, client: OidcClient, scope: str) -> None:
        with self._lock:
            self._consents.add((user.username, client.get_client_id(), scope))
