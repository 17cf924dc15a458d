"""The grant types MIC serves at its token endpoint (RFC 6749 section 4)."""
from __future__ import annotations

import secrets
from typing import Any

from authlib.oauth2.rfc6749 import grants

from ..connectors.capabilities import ConnectorError
from ..store import IssuedCode, MemoryStore
from .errors import UpstreamError

CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 4.1, with PKCE (RFC 7636) verified when the app sent a challenge.

    The code is issued after the connector logged the user in; it lives for the
    service's grant TTL and is bound to the client and the redirect URI.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    @property
    def store(self) -> MemoryStore:
        return self.server.store

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: Any) -> None:
        payload = request.payload.data
        self.store.put_code(IssuedCode(
            code=code, client_id=request.client.get_client_id(), redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "", identity=request.user,
            expires_at=self.store.clock.now() + request.client.service.grant_ttl,
            code_challenge=payload.get("code_challenge"),
            code_challenge_method=payload.get("code_challenge_method")))

    def query_authorization_code(self, code: str, client: Any) -> IssuedCode | None:
        return self.store.redeem_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Kept, marked used, so that a second redemption can be recognised (4.1.2)."""

    def authenticate_user(self, authorization_code: IssuedCode) -> Any:
        return authorization_code.identity


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    """RFC 6749 4.3: the connector checks the credentials (its PasswordLogin capability)."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def authenticate_token_endpoint_client(self) -> Any:
        # authlib attaches the client to the request only after authenticate_user,
        # which needs the client's connector.
        self.request.client = super().authenticate_token_endpoint_client()
        return self.request.client

    def authenticate_user(self, username: str, password: str) -> Any:
        try:
            return self.request.client.connector.password_login(username, password)
        except ConnectorError as exc:
            raise UpstreamError(exc.error, exc.description, exc.debug) from None
