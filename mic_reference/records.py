"""What the MIC remembers between requests: logins in progress, login grants, codes, tokens.

Every record carries its expiry as an instant on the injected clock. A login grant is
one successful upstream login (who the user is, and the upstream's tokens); the codes
and tokens issued from it share it, and it is what a token family revokes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from plumbing.grants import ClockedCode, ClockedToken

from .connectors.capabilities import Identity


@dataclass
class PendingLogin:
    """An authorization request waiting for its login: the upstream's callback
    (``callback_url``), or the credentials posted to MIC's own login endpoint (None)."""

    ref: str
    params: Mapping[str, str]
    callback_url: str | None
    expires_at: float
    #: for MIC's own login page: the digest of the CSRF token its form must carry
    csrf_digest: str | None = None
    #: after the password, before the second factor: who the user is, and a TOTP
    #: secret being enrolled (None once enrolled)
    identity: Identity | None = None
    enrolling_secret: str | None = field(default=None, repr=False)


@dataclass
class LoginGrant:
    id: str
    identity: Identity
    upstream_expires_at: float | None

    def upstream_expired(self, now: float) -> bool:
        return self.upstream_expires_at is not None and now >= self.upstream_expires_at


@dataclass(kw_only=True)
class IssuedCode(ClockedCode):
    grant: LoginGrant


@dataclass(kw_only=True)
class IssuedToken(ClockedToken):
    grant: LoginGrant
