"""TOTP codes (RFC 6238) as the MIC and the mock IdPs accept them: a code of the current
time step or a neighbour (clock drift, 5.2), on the injected clock, and only for a step
later than the last one accepted, so that each code serves once."""
from __future__ import annotations

import secrets

import pyotp


def matching_step(secret: str | None, code: str, now: float, after: int = -1) -> int | None:
    """The time step ``code`` belongs to if it may be accepted at ``now`` (later than
    ``after``, the last step accepted); None otherwise."""
    if not secret or not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    return next((step for step in (current - 1, current, current + 1)
                 if step > after and secrets.compare_digest(totp.at(step * totp.interval), code)), None)
