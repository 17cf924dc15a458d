"""Issuers, users, clients and lifetimes of the OpenID provider, from a YAML fixture.

``issuers`` are path prefixes: each is an issuer of its own (keys, sessions, codes,
tokens) served by the one server, so a client can be mixed up between two of them.
A user's ``attributes`` are their standard claims (OpenID Connect Core 5.1), released
by scope; ``id`` is their ``sub``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mock_idps.shared import fixture as shared

DEFAULT = Path(__file__).with_name("fixture.yaml")
RESPONSE_TYPES = ["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"]
GRANT_TYPES = ["authorization_code", "implicit", "password", "refresh_token", "client_credentials"]

SCHEMA = shared.schema(grant_types=GRANT_TYPES, top={
    "issuers": {"type": "array", "minItems": 1, "uniqueItems": True,
                "items": {"type": "string", "pattern": "^(/[A-Za-z0-9_-]+)*$"},
                "description": "path prefixes, each its own issuer ('' is the server's root)"},
    "id_token_ttl": {"type": "integer", "minimum": 1},
    "pkce_plain": {"type": "boolean", "description": "accept code_challenge_method=plain (default: yes)"},
}, client={
    "response_types": {"type": "array", "items": {"enum": RESPONSE_TYPES}},
    "consent": {"type": "boolean", "description": "the user must consent to this client (once per scope)"},
    "mfa": {"type": "boolean", "description": "every login to this client takes a TOTP code too"},
    "post_logout_redirect_uris": shared.STRINGS,
})


@dataclass(frozen=True)
class ClientSpec(shared.ClientSpec):
    response_types: tuple[str, ...] = ("code",)
    consent: bool = False
    mfa: bool = False
    post_logout_redirect_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fixture(shared.Fixture):
    issuers: tuple[str, ...] = ("",)
    id_token_ttl: int = 3600
    pkce_plain: bool = True


def load(path: str | Path = DEFAULT, variables: dict[str, str] | None = None) -> Fixture:
    return shared.load(path, variables, SCHEMA, fixture_type=Fixture, client_type=ClientSpec)
