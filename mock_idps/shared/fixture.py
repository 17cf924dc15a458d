"""Users, clients and lifetimes from a provider's YAML fixture: the parts every mock shares.

Each provider adds its own client and top-level fields to the schema (``schema``) and to
the dataclasses (subclasses), and ``load`` builds them; a mistake names file and line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumbing import yamlfile

STRINGS = {"type": "array", "items": {"type": "string"}}
_TTL = {"type": "integer", "minimum": 1}


def schema(*, grant_types: list[str], client: dict[str, Any] | None = None,
           top: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fixture schema: the shared users, clients and TTLs, and a provider's own fields."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["clients", "users"],
        "properties": {
            "code_ttl": _TTL, "token_ttl": _TTL, "refresh_ttl": _TTL, "session_ttl": _TTL,
            **(top or {}),
            "clients": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["client_id", "redirect_uris"],
                "properties": {
                    "client_id": {"type": "string", "minLength": 1},
                    "client_secret": {"type": "string", "minLength": 1},
                    "redirect_uris": STRINGS,
                    "grant_types": {"type": "array", "items": {"enum": grant_types}},
                    "scope": {"type": "string"},
                    **(client or {}),
                }}},
            "users": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["username", "password", "id"],
                "properties": {
                    "username": {"type": "string", "minLength": 1},
                    "password": {"type": "string"},
                    "id": {"type": "string", "minLength": 1},
                    "attributes": {"type": "object"},
                    "totp": {"type": "boolean", "description": "a TOTP code after the password (where the "
                                                               "provider has the step)"},
                }}},
        },
    }


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    redirect_uris: tuple[str, ...]
    client_secret: str | None = None
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    scope: str = ""


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: str
    id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    totp: bool = False


@dataclass(frozen=True)
class Fixture:
    clients: tuple[ClientSpec, ...]
    users: tuple[UserSpec, ...]
    code_ttl: int = 60
    token_ttl: int = 3600
    refresh_ttl: int = 1209600
    session_ttl: int = 28800


def load(path: str | Path, variables: dict[str, str] | None, schema: dict[str, Any], *,
         fixture_type: type[Fixture] = Fixture, client_type: type[ClientSpec] = ClientSpec) -> Fixture:
    document = yamlfile.load(path, variables or {})
    document.validate(schema)
    data = dict(document.data)
    clients = tuple(client_type(**_tuples(c)) for c in data.pop("clients"))
    users = tuple(UserSpec(**u) for u in data.pop("users"))
    return fixture_type(clients=clients, users=users, **_tuples(data))


def _tuples(fields: dict[str, Any]) -> dict[str, Any]:
    """Lists as tuples, so specs stay frozen and hashable."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
