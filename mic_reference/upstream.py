"""Keeping the upstream's tokens alive behind the MIC's own.

When the app refreshes its MIC token (or the BaaS validates one) and the upstream
token stored with the login has expired, the MIC refreshes it upstream first; if the
upstream refuses, the user has to log in again.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from .connectors.capabilities import ConnectorError, Identity, UpstreamRefresh
from .records import LoginGrant
from .vault import Vault


def expires_at(identity: Identity, now: float) -> float | None:
    """When the upstream token runs out, if the upstream said (``expires_in``). None, and only the
    MIC's TTLs end the login, for a token that bounds no upstream session: a custom auth service's
    opaque token (FlexAuth) keeps no ``expires_in`` here, whatever the service put in it."""
    lifetime = identity.upstream_token.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)):
        try:
            lifetime = float(lifetime)
        except (TypeError, ValueError):
            return None
    return now + lifetime


def ensure_fresh(vault: Vault, connector: Any, grant: LoginGrant) -> LoginGrant:
    """The grant with live upstream tokens, refreshed upstream when they had expired."""
    now = vault.clock.now()
    if not grant.upstream_expired(now):
        return grant
    if not isinstance(connector, UpstreamRefresh):
        raise ConnectorError("invalid_grant", "the identity provider's session has expired; log in again",
                             debug="upstream token expired and the connector cannot refresh it")
    identity = connector.refresh(grant.identity, now)
    fresh = replace(grant, identity=identity, upstream_expires_at=expires_at(identity, now))
    vault.update_grant(fresh)
    return fresh
