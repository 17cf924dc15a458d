"""Apps, people and lifetimes of the mock Facebook, from a YAML fixture.

A client is a Facebook app: ``client_id`` its app id, ``client_secret`` its app secret,
``scope`` the permissions it may ask for; ``require_appsecret_proof`` is the app
setting that makes every Graph call prove it knows the secret. A user's
``attributes`` are the fields of their User node; ``id`` is their (app-scoped) id.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mock_idps.shared import fixture as shared

DEFAULT = Path(__file__).with_name("fixture.yaml")
SCHEMA = shared.schema(grant_types=["authorization_code", "fb_exchange_token"], top={
    "long_token_ttl": {"type": "integer", "minimum": 1,
                       "description": "seconds a long-lived token (fb_exchange_token) lives"},
}, client={
    "require_appsecret_proof": {"type": "boolean",
                                "description": "Graph calls with this app's tokens must carry appsecret_proof"},
})


@dataclass(frozen=True)
class ClientSpec(shared.ClientSpec):
    require_appsecret_proof: bool = False


@dataclass(frozen=True)
class Fixture(shared.Fixture):
    code_ttl: int = 600
    token_ttl: int = 7200
    long_token_ttl: int = 5184000


def load(path: str | Path = DEFAULT, variables: dict[str, str] | None = None) -> Fixture:
    return shared.load(path, variables, SCHEMA, fixture_type=Fixture, client_type=ClientSpec)
