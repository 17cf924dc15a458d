"""Users, clients and lifetimes of the OAuth2 provider, from a YAML fixture."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumbing import yamlfile

DEFAULT = Path(__file__).with_name("fixture.yaml")

_STRINGS = {"type": "array", "items": {"type": "string"}}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["clients", "users"],
    "properties": {
        "code_ttl": {"type": "integer", "minimum": 1},
        "token_ttl": {"type": "integer", "minimum": 1},
        "refresh_ttl": {"type": "integer", "minimum": 1},
        "session_ttl": {"type": "integer", "minimum": 1},
        "clients": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["client_id", "redirect_uris"],
            "properties": {
                "client_id": {"type": "string", "minLength": 1},
                "client_secret": {"type": "string", "minLength": 1},
                "redirect_uris": _STRINGS,
                "grant_types": {"type": "array", "items": {
                    "enum": ["authorization_code", "password", "refresh_token"]}},
                "scope": {"type": "string"},
            }}},
        "users": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["username", "password", "id"],
            "properties": {
                "username": {"type": "string", "minLength": 1},
                "password": {"type": "string"},
                "id": {"type": "string", "minLength": 1},
                "attributes": {"type": "object"},
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


@dataclass(frozen=True)
class Fixture:
    clients: tuple[ClientSpec, ...]
    users: tuple[UserSpec, ...]
    code_ttl: int = 60
    token_ttl: int = 3600
    refresh_ttl: int = 1209600
    session_ttl: int = 28800


def load(path: str | Path = DEFAULT, variables: dict[str, str] | None = None) -> Fixture:
    document = yamlfile.load(path, variables or {})
    document.validate(SCHEMA)
    data = dict(document.data)
    clients = tuple(ClientSpec(**{**c, "redirect_uris": tuple(c["redirect_uris"]),
                                  **({"grant_types": tuple(c["grant_types"])} if "grant_types" in c else {})})
                    for c in data.pop("clients"))
    users = tuple(UserSpec(**u) for u in data.pop("users"))
    return Fixture(clients=clients, users=users, **data)
