"""The provider's authorization server: authlib's RFC 6749 grants over the in-memory store."""
from __future__ import annotations

import secrets

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge

from plumbing.grants import EchoSafeErrors

from .models import AuthorizationCode, Store, Token


def _random_token(*_args, **_kwargs) -> str:
    return secrets.token_urlsafe(32)


class ProviderServer(EchoSafeErrors, AuthorizationServer):
    pass


def build(app, store: Store) -> tuple[AuthorizationServer, ResourceProtector]:
    """An authorization server and a resource protector bound to ``store``."""

    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def save_authorization_code(self, code, request):
            store.add_code(AuthorizationCode(
                code=code, client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri, scope=request.scope or "",
                user=request.user, expires_at=store.clock.now() + store.fixture.code_ttl,
                code_challenge=request.payload.data.get("code_challenge"),
                code_challenge_method=request.payload.data.get("code_challenge_method")))

        def query_authorization_code(self, code, client):
            return store.find_code(code, client.get_client_id())

        def delete_authorization_code(self, authorization_code):
            store.remove_code(authorization_code)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def authenticate_user(self, username, password):
            user = store.authenticate(username, password)
            if user is None:
                # RFC 6749 5.2: bad resource owner credentials are an invalid grant.
                raise InvalidGrantError("The username or password is not right.")
            return user

    class RefreshTokenGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token):
            return store.find_refresh_token(refresh_token)

        def authenticate_user(self, refresh_token):
            return refresh_token.user

        def revoke_old_credential(self, refresh_token):
            store.revoke(refresh_token)

    def save_token(token_data, request):
        store.add_token(token_data, request.client.get_client_id(), request.user)

    server = ProviderServer(app, query_client=store.clients.get, save_token=save_token)
    server.register_token_generator("default", BearerTokenGenerator(
        _random_token, _random_token, lambda client, grant_type: store.fixture.token_ttl))
    server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=False)])
    server.register_grant(PasswordGrant)
    server.register_grant(RefreshTokenGrant)

    class Validator(BearerTokenValidator):
        def authenticate_token(self, token_string: str) -> Token | None:
            return store.find_access_token(token_string)

    protector = ResourceProtector()
    protector.register_token_validator(Validator())
    return server, protector
