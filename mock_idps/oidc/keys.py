"""An issuer's signing keys: the current one signs, the one before stays in the JWKS.

Rotation on demand (the control surface's ``keys``) lets a test check that a relying
party finds a new ``kid`` in the JWKS and still accepts tokens signed before.
"""
from __future__ import annotations

import threading

from joserfc.jwk import KeySet, RSAKey

ALG = "RS256"
KEPT = 2  # the current key and the one it replaced


def new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALG}, auto_kid=True)


class KeyRing:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys = [new_key()]

    @property
    def current(self) -> RSAKey:
        with self._lock:
            return self._keys[-1]

    def rotate(self) -> RSAKey:
        """A new signing key; the oldest beyond ``KEPT`` leaves the JWKS."""
        key = new_key()
        with self._lock:
            self._keys = [*self._keys, key][-KEPT:]
        return key

    def retire_previous(self) -> None:
        """Only the current key remains: tokens signed before no longer verify."""
        with self._lock:
            self._keys = self._keys[-1:]

    def jwks(self) -> dict:
        with self._lock:
            return KeySet(list(self._keys)).as_dict(private=False)

    def kids(self) -> list[str]:
        with self._lock:
            return [key.kid for key in self._keys]
