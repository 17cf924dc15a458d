"""Is a MIC access token good right now? What the BaaS asks before it trusts a session.

Good means: issued here, neither expired nor revoked, its auth service still
configured, and the upstream login behind it alive (refreshed upstream when its
token has expired; if the upstream refuses, the login is over).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import upstream
from .connectors.capabilities import ConnectorError
from .oauth.clients import ClientDirectory, MicClient
from .records import IssuedToken, LoginGrant
from .vault import Vault


@dataclass
class ValidToken:
    token: IssuedToken
    client: MicClient
    grant: LoginGrant


def validate(vault: Vault, clients: ClientDirectory, access_digest: str) -> ValidToken | None:
    token = vault.find_token_by_digest(access_digest)
    if token is None or token.is_revoked() or token.is_expired():
        return None
    client = clients(token.client_id)
    if client is None:
        return None
    try:
        grant = upstream.ensure_fresh(vault, client.connector, token.grant)
    except ConnectorError:
        vault.revoke_grant(token.grant.id)
        return None
    return ValidToken(token, client, grant)
