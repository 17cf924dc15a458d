"""Users, clients and lifetimes of the OAuth2 provider, from a YAML fixture.

A client may have the user id put into the token response under an attribute of its
choice (``token_user_id``, e.g. ``id_token``), where an OAuth2 broker may look for it
instead of calling the user-id endpoint.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mock_idps.shared import fixture as shared
from mock_idps.shared.fixture import Fixture

DEFAULT = Path(__file__).with_name("fixture.yaml")
SCHEMA = shared.schema(grant_types=["authorization_code", "password", "refresh_token"], client={
    "token_user_id": {"type": "string", "minLength": 1,
                      "description": "the token response attribute that carries the user id"}})


@dataclass(frozen=True)
class ClientSpec(shared.ClientSpec):
    token_user_id: str | None = None


def load(path: str | Path = DEFAULT, variables: dict[str, str] | None = None) -> Fixture:
    return shared.load(path, variables, SCHEMA, client_type=ClientSpec)
