"""The grants both mock providers issue through authlib, over a ``Store``.

Grant classes read their store from a class attribute; ``bind`` makes a subclass that
carries one, as authlib instantiates grants itself per request.
"""
from __future__ import annotations

import secrets
from typing import TypeVar

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator

from plumbing.grants import EchoSafeErrors

from .records import AuthorizationCode, Store, Token

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
G = TypeVar("G")


def bind(grant: type[G], store: Store) -> type[G]:
    return type(grant.__name__, (grant,), {"store": store})


def random_token(*_args, **_kwargs) -> str:
    return secrets.token_urlsafe(32)


class ProviderServer(EchoSafeErrors, AuthorizationServer):
    pass


class StoredCodes:
    """Codes kept in the store: who logged in, PKCE, and the OpenID Connect nonce."""

    store: Store
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code, request):
        data = request.payload.data
        self.store.add_code(AuthorizationCode(
            code=code, client_id=request.client.get_client_id(), redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "", login=request.user,
            expires_at=self.store.clock.now() + self.store.fixture.code_ttl,
            code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"),
            nonce=data.get("nonce")))

    def query_authorization_code(self, code, client):
        return self.store.find_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code):
        self.store.remove_code(authorization_code)

    def authenticate_user(self, authorization_code):
        return authorization_code.login


class AuthorizationCodeGrant(StoredCodes, grants.AuthorizationCodeGrant):
    pass


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    store: Store
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def authenticate_user(self, username, password):
        user = self.store.authenticate(username, password)
        if user is None:
            # RFC 6749 5.2: bad resource owner credentials are an invalid grant.
            raise InvalidGrantError("The username or password is not right.")
        return self.store.login(user)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Rotation: every refresh issues a new refresh token and retires the one presented."""

    store: Store
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        return self.store.find_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token):
        return refresh_token.login

    def revoke_old_credential(self, refresh_token):
        self.store.revoke(refresh_token)


def server(app, store: Store, server_type: type[AuthorizationServer] = ProviderServer) -> AuthorizationServer:
    """An authorization server issuing random bearer tokens that live ``token_ttl`` on the clock."""
    def save_token(token_data, request):
        store.add_token(token_data, request.client, request.user)

    authorization = server_type(app, query_client=store.clients.get, save_token=save_token)
    authorization.register_token_generator("default", BearerTokenGenerator(
        random_token, random_token, lambda client, grant_type: store.fixture.token_ttl))
    return authorization


def protector(store: Store) -> ResourceProtector:
    """Guards the resource endpoints with the store's access tokens."""
    class Validator(BearerTokenValidator):
        def authenticate_token(self, token_string: str) -> Token | None:
            return store.find_access_token(token_string)

    guard = ResourceProtector()
    guard.register_token_validator(Validator())
    return guard
