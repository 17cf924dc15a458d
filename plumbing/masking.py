"""Masking of secrets before anything is logged or reported.

A masked value keeps a short digest, so a reader can still tell that the code the MIC
sent upstream is the code the IdP issued, without seeing either. The digest is keyed
with a random key of this process's own, never written anywhere: equal secrets match
within one run's logs and report, but a word list cannot confirm a password from it.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

#: the key of this process's masks; made anew at every start
_KEY = secrets.token_bytes(32)
#: what a masked value looks like
MASKED = re.compile(r"\*\*\*[0-9a-f]{8}")

SECRET_NAMES = frozenset({
    "password", "client_secret", "clientsecret", "app_secret", "appsecret", "secret", "code",
    "code_verifier", "access_token", "refresh_token", "id_token", "token",
    "authtoken", "bindpassword", "authkey", "auth_key", "wrap_password", "wrap_access_token", "x-auth-key", "totp_code", "login_ref", "csrf_token",
    # Graph's: a token to extend or inspect, the proof made with the app secret, Facebook's form token
    "fb_exchange_token", "input_token", "appsecret_proof", "fb_dtsg",
})
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-auth-key", "x-kinvey-auth"})


def mask(value: Any) -> str:
    digest = hmac.new(_KEY, str(value).encode(), hashlib.sha256).hexdigest()[:8]
    return f"***{digest}"


def is_secret_name(name: str) -> bool:
    return name.lower() in SECRET_NAMES


def mask_fields(data: Any) -> Any:
    """A copy of JSON-like data with the values of secret-named keys masked, at any depth."""
    if isinstance(data, dict):
        return {k: (mask(v) if is_secret_name(str(k)) and v not in (None, "") else mask_fields(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [mask_fields(v) for v in data]
    return data


def mask_header(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered not in SECRET_HEADERS:
        return value
    if lowered == "authorization" and " " in value:
        scheme, _, credentials = value.partition(" ")
        return f"{scheme} {mask(credentials)}"
    return mask(value)


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: mask_header(name, value) for name, value in headers.items()}
