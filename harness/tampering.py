"""Named mutations the ``tamper`` step applies to an artifact the app holds.

Each takes the artifact (a code, a token, a state) and returns a forged one that a
strict server must refuse. JWT mutations re-encode the token the way an attacker would:
``jwt-alg-none`` drops the signature and claims ``alg: none`` (RFC 8725 3.1),
``jwt-strip-signature`` keeps the header and payload only.
"""
from __future__ import annotations

import base64
import json
import string
from typing import Callable


class NotApplicable(ValueError):
    """The mutation cannot apply to this artifact (e.g. a JWT mutation on an opaque token)."""


def _flip_last(value: str) -> str:
    if not value:
        raise NotApplicable("an empty value has no last character")
    alphabet = string.ascii_letters + string.digits
    last = value[-1]
    return value[:-1] + alphabet[(alphabet.index(last) + 1) % len(alphabet) if last in alphabet else 0]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt_parts(value: str) -> list[str]:
    parts = value.split(".")
    if len(parts) != 3:
        raise NotApplicable("not a JWS compact serialization (three dot-separated parts)")
    return parts


def _alg_none(value: str) -> str:
    _, payload, _ = _jwt_parts(value)
    return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}."


def _strip_signature(value: str) -> str:
    header, payload, _ = _jwt_parts(value)
    return f"{header}.{payload}."


MUTATIONS: dict[str, Callable[[str], str]] = {
    "flip-last-char": _flip_last,
    "truncate": lambda value: value[: len(value) // 2],
    "empty": lambda value: "",
    "append": lambda value: value + "A",
    "swap-case": lambda value: value.swapcase() if value.swapcase() != value else _flip_last(value),
    "jwt-alg-none": _alg_none,
    "jwt-strip-signature": _strip_signature,
}
