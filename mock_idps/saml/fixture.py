"""Users, service providers (also the WRAP scopes) and lifetimes of the mock SAML IdP, from a YAML fixture."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plumbing import yamlfile

DEFAULT = Path(__file__).with_name("fixture.yaml")

_SECONDS = {"type": "integer", "minimum": 1}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["service_providers", "users"],
    "properties": {
        "assertion_ttl": _SECONDS,
        "request_ttl": _SECONDS,
        "session_ttl": _SECONDS,
        "wrap_token_ttl": _SECONDS,
        "sign": {"enum": ["assertion", "response", "both"]},
        "service_providers": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["entity_id", "acs"],
            "properties": {"entity_id": {"type": "string", "minLength": 1},
                           "acs": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^https?://"}}}}},
        "users": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["username", "password", "id", "email"],
            "properties": {
                "username": {"type": "string", "minLength": 1},
                "password": {"type": "string"},
                "id": {"type": "string", "minLength": 1},
                "email": {"type": "string", "minLength": 3},
                "totp": {"type": "boolean"},
                "attributes": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            }}},
    },
}


@dataclass(frozen=True)
class ServiceProvider:
    entity_id: str
    acs: tuple[str, ...]


@dataclass(frozen=True)
class User:
    username: str
    password: str
    id: str
    email: str
    totp: bool = False
    attributes: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Fixture:
    service_providers: tuple[ServiceProvider, ...]
    users: tuple[User, ...]
    assertion_ttl: int = 300
    request_ttl: int = 300
    session_ttl: int = 28800
    wrap_token_ttl: int = 3600
    sign: str = "assertion"

    def user(self, username: str) -> User | None:
        return next((u for u in self.users if u.username == username), None)

    def service_provider(self, entity_id: str) -> ServiceProvider | None:
        return next((sp for sp in self.service_providers if sp.entity_id == entity_id), None)


def load(path: str | Path = DEFAULT, variables: dict[str, str] | None = None) -> Fixture:
    document = yamlfile.load(path, variables or {})
    document.validate(SCHEMA)
    data = dict(document.data)
    sps = tuple(ServiceProvider(sp["entity_id"], tuple(sp["acs"])) for sp in data.pop("service_providers"))
    users = tuple(User(**u) for u in data.pop("users"))
    return Fixture(service_providers=sps, users=users, **data)
