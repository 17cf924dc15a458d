"""Tampering with the id_tokens the provider issues, armed on its control surface.

``POST /_control/tamper {"mutation": "wrong-aud", "times": 1, "artifact": "id_token"}``
makes the next id_token(s) forged in that one way; everything else about them stays
genuine (a wrong ``aud`` is still signed with the issuer's key), so a relying party
that skips any single check is caught. ``GET`` lists what is armed, ``DELETE`` disarms.
"""
from __future__ import annotations

import base64
import json
import threading
from typing import Any, Callable

from joserfc import jws, jwt
from joserfc.jwk import RSAKey
from werkzeug.wrappers import Request

from plumbing.control import ControlError, json_object

from .keys import ALG, new_key

ARTIFACTS = ("id_token",)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Forgery:
    """What a mutation may change: the header, the claims, and how the result is signed."""

    def __init__(self, header: dict[str, Any], claims: dict[str, Any], key: RSAKey, now: float) -> None:
        self.header, self.claims, self.key, self.now = header, claims, key, now

    def signed(self) -> str:
        return jwt.encode(self.header, self.claims, self.key, algorithms=[ALG])


def _bad_signature(f: Forgery) -> str:
    header, payload, signature = f.signed().split(".")
    flipped = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    flipped[len(flipped) // 2] ^= 0x01
    return f"{header}.{payload}.{_b64(bytes(flipped))}"


def _alg_none(f: Forgery) -> str:
    header = {k: v for k, v in f.header.items() if k != "kid"} | {"alg": "none"}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(f.claims).encode())}."


def _unknown_kid(f: Forgery) -> str:
    stranger = new_key()  # a well-formed signature by a key the JWKS never published
    return jwt.encode({**f.header, "kid": stranger.kid}, f.claims, stranger, algorithms=[ALG])


def _claims(change: Callable[[Forgery], None]) -> Callable[[Forgery], str]:
    def mutate(f: Forgery) -> str:
        change(f)
        return f.signed()
    return mutate


def _expired(f: Forgery) -> None:
    lifetime = f.claims["exp"] - f.claims["iat"]
    f.claims["iat"] = int(f.now) - lifetime - 120
    f.claims["exp"] = int(f.now) - 120


MUTATIONS: dict[str, Callable[[Forgery], str]] = {
    "bad-signature": _bad_signature,
    "alg-none": _alg_none,
    "unknown-kid": _unknown_kid,
    "wrong-iss": _claims(lambda f: f.claims.update(iss=f.claims["iss"] + "/not-this-issuer")),
    "wrong-aud": _claims(lambda f: f.claims.update(aud=["another-client"])),
    "expired": _claims(_expired),
    "no-nonce": _claims(lambda f: f.claims.pop("nonce", None)),
    "wrong-nonce": _claims(lambda f: f.claims.update(nonce="not-the-nonce-sent")),
    "bad-at-hash": _claims(lambda f: f.claims.update(at_hash=_b64(b"not the access token"))),
}


class TamperBook:
    """Armed mutations, first armed first used; each lasts ``times`` id_tokens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[dict[str, Any]] = []

    def apply(self, id_token: str, key: RSAKey, now: float) -> str:
        with self._lock:
            if not self._armed:
                return id_token
            armed = self._armed[0]
            armed["remaining"] -= 1
            if armed["remaining"] == 0:
                self._armed.pop(0)
        parts = jws.extract_compact(id_token.encode())
        forgery = Forgery(dict(parts.protected), json.loads(parts.payload), key, now)
        return MUTATIONS[armed["mutation"]](forgery)

    def clear(self) -> int:
        with self._lock:
            cleared, self._armed = len(self._armed), []
        return cleared

    def control(self, request: Request) -> tuple[int, Any]:
        """``/_control/tamper``: arm (POST), list (GET), disarm all (DELETE, as clearing the faults does)."""
        if request.method == "DELETE":
            return 200, {"cleared": self.clear()}
        if request.method == "POST":
            armed = self._parse(json_object(request))
            with self._lock:
                self._armed.append(armed)
            return 201, armed
        with self._lock:
            return 200, {"armed": [dict(a) for a in self._armed]}

    @staticmethod
    def _parse(spec: dict[str, Any]) -> dict[str, Any]:
        unknown = set(spec) - {"artifact", "mutation", "times"}
        if unknown:
            raise ControlError(400, f"unknown field(s) {sorted(unknown)}; expected artifact, mutation, times")
        spec = {"artifact": "id_token", **spec}
        if spec["artifact"] not in ARTIFACTS:
            raise ControlError(400, f"artifact must be one of {list(ARTIFACTS)}")
        if spec.get("mutation") not in MUTATIONS:
            raise ControlError(400, f"mutation must be one of {sorted(MUTATIONS)}")
        times = spec.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ControlError(400, "times must be a whole number of id_tokens, 1 or more")
        return {"artifact": spec["artifact"], "mutation": spec["mutation"], "remaining": times}
