"""The grant types MIC serves at its token endpoint (RFC 6749 sections 4 and 6)."""
from __future__ import annotations

import secrets
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from .. import upstream
from ..connectors.capabilities import ConnectorError, serving
from ..records import IssuedCode, IssuedToken, LoginGrant
from ..vault import Vault
from .errors import UpstreamError

CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


class _VaultBacked:
    @property
    def vault(self) -> Vault:
        return self.server.vault


class AuthorizationCodeGrant(_VaultBacked, grants.AuthorizationCodeGrant):
    """RFC 6749 4.1, with PKCE (RFC 7636) verified when the app sent a challenge.

    The code is issued after the connector logged the user in; it lives for the
    service's grant TTL and is bound to the client and the redirect URI.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: Any) -> None:
        payload = request.payload.data
        self.vault.put_code(IssuedCode(
            code=code, client_id=request.client.get_client_id(), redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "", grant=request.user,
            expires_at=self.vault.clock.now() + request.client.service.grant_ttl,
            code_challenge=payload.get("code_challenge"),
            code_challenge_method=payload.get("code_challenge_method")))

    def query_authorization_code(self, code: str, client: Any) -> IssuedCode | None:
        return self.vault.redeem_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Kept, marked used, so that a second redemption can be recognised (4.1.2)."""

    def authenticate_user(self, authorization_code: IssuedCode) -> LoginGrant:
        return authorization_code.grant


class MicCodeChallenge(CodeChallenge):
    """PKCE (RFC 7636) with S256 only, unless the service allows ``plain`` (``allowPkcePlain``):
    RFC 9700 2.1.1. A challenge without a method is ``plain`` (RFC 7636 4.3)."""

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge") and (data.get("code_challenge_method") or "plain") == "plain" \
                and not grant.request.client.service.allow_pkce_plain:
            raise InvalidRequestError("PKCE's plain method is not allowed for this service; use S256.")


class PasswordGrant(_VaultBacked, grants.ResourceOwnerPasswordCredentialsGrant):
    """RFC 6749 4.3: the connector checks the credentials (its PasswordLogin capability)."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def authenticate_token_endpoint_client(self) -> Any:
        # authlib attaches the client to the request only after authenticate_user,
        # which needs the client's connector.
        self.request.client = super().authenticate_token_endpoint_client()
        return self.request.client

    def authenticate_user(self, username: str, password: str) -> LoginGrant:
        # RFC 6749 3.2: a parameter sent without a value is as if omitted; authlib checks presence only
        empty = next((name for name, value in (("username", username), ("password", password)) if not value), None)
        if empty is not None:
            raise InvalidRequestError(f"Missing '{empty}' in request.")
        try:
            with serving(self.request.client.login_context(self.request.headers, self.vault.clock.now(),
                                                           self.vault.first_use)):
                identity = self.request.client.connector.password_login(username, password)
        except ConnectorError as exc:
            # RFC 6749 5.2 has no access_denied: credentials that cannot be used are an invalid grant
            error = "invalid_grant" if exc.error == "access_denied" else exc.error
            raise UpstreamError(error, exc.description, exc.debug) from None
        return self.vault.open_grant(identity, upstream.expires_at(identity, self.vault.clock.now()))


class RefreshTokenGrant(_VaultBacked, grants.RefreshTokenGrant):
    """RFC 6749 section 6, with rotation: every refresh token serves once.

    The SDKs send ``redirect_uri`` (the literal ``undefined`` after a password login);
    a refresh does not look at it. A refresh token used twice revokes its family.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        return self.vault.claim_refresh(refresh_token)

    def authenticate_user(self, refresh_token: IssuedToken) -> LoginGrant:
        try:
            return upstream.ensure_fresh(self.vault, self.request.client.connector, refresh_token.grant)
        except ConnectorError as exc:
            # The upstream would not renew the session: the user must log in again.
            self.vault.revoke_grant(refresh_token.grant.id)
            error = InvalidGrantError(exc.description)
            error.debug = exc.debug
            raise error from None

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        """Already done: claiming the refresh token used it up."""
