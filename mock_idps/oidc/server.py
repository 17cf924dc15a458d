"""One issuer's authorization server: authlib's OAuth 2.0 and OpenID Connect grants and
endpoints over its store, id_tokens signed with its keys on the injected clock."""
from __future__ import annotations

from dataclasses import dataclass

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants as rfc6749, scope_to_list
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import OpenIDCode, OpenIDHybridGrant, OpenIDImplicitGrant, OpenIDToken, UserInfo
from authlib.oidc.core import UserInfoEndpoint
from flask import request

from mock_idps.shared import grants
from mock_idps.shared.grants import AUTH_METHODS, StoredCodes, bind

from .keys import ALG, KeyRing
from .records import OidcStore
from .tamper import TamperBook

#: the claims of the standard scopes (OpenID Connect Core 5.4)
SCOPES = ["openid", "profile", "email", "address", "phone", "offline_access"]


@dataclass
class Issuer:
    """One issuer of the server: its path prefix, keys, records and authorization server."""

    prefix: str
    store: OidcStore
    keys: KeyRing
    tampering: TamperBook
    server: AuthorizationServer | None = None
    protector: ResourceProtector | None = None

    @property
    def url(self) -> str:
        return request.host_url.rstrip("/") + self.prefix

    def user_info(self, login, scope: str) -> UserInfo:
        user = login.user
        return UserInfo(sub=user.id, **user.attributes).filter(scope) | {"sub": user.id}

    def finish(self, id_token: str) -> str:
        """The id_token as sent: forged, when a test armed a mutation."""
        return self.tampering.apply(id_token, self.keys.current, self.store.clock.now())


class IdTokens:
    """How this provider's id_tokens are made: its issuer, its key, its clock, and tampering."""

    issuer: Issuer

    def resolve_client_private_key(self, client):
        return self.issuer.keys.current

    def get_client_algorithm(self, client):
        return ALG

    def get_encode_header(self, client):
        return {"alg": ALG, "kid": self.issuer.keys.current.kid}

    def get_compatible_claims(self, request):
        now = int(self.issuer.store.clock.now())
        login = request.user
        return {"iss": self.issuer.url, "aud": [request.client.get_client_id()], "iat": now,
                "exp": now + self.issuer.store.fixture.id_token_ttl, "auth_time": int(login.auth_time),
                "amr": list(login.amr)}

    def generate_user_info(self, login, scope):
        return self.issuer.user_info(login, scope)

    def exists_nonce(self, nonce, request):
        return False  # a nonce is the client's to check; codes are single-use anyway


class IdTokenHook(IdTokens):
    """On the token endpoint's grants (code, password, refresh)."""

    def process_token(self, grant, response):
        token = super().process_token(grant, response)
        if "id_token" in token:
            token["id_token"] = self.issuer.finish(token["id_token"])
        return token


class OpenIDCodeHook(IdTokenHook, OpenIDCode):
    pass


class OpenIDTokenHook(IdTokenHook, OpenIDToken):
    pass


def _ignore_unconsented_offline_access(grant, _redirect_uri) -> None:
    """OpenID Connect Core 11: offline_access is ignored unless the request has prompt=consent
    (so no refresh token comes), as oidc-provider does."""
    scopes = scope_to_list(grant.request.scope or "")
    if "offline_access" in scopes and "consent" not in (grant.request.payload.data.get("prompt") or "").split():
        grant.request.scope = " ".join(s for s in scopes if s != "offline_access")


class OfflineAccessNeedsConsent:
    """On the grants that return a code (the only ones offline_access applies to)."""

    def validate_authorization_request(self):
        self.register_hook("after_validate_authorization_request_payload", _ignore_unconsented_offline_access)
        return super().validate_authorization_request()


class FromAuthorizationEndpoint(IdTokens):
    """On the implicit and hybrid grants: the id_token travels in the redirect."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def process_implicit_token(self, token, code=None):
        token = super().process_implicit_token(token, code)
        token["id_token"] = self.issuer.finish(token["id_token"])
        return token


class ImplicitGrant(FromAuthorizationEndpoint, OpenIDImplicitGrant):
    def authenticate_token_endpoint_client(self):
        """No secret travels to the authorization endpoint: the client is the one ``client_id`` names."""
        client = self.server.query_client(self.request.payload.client_id)
        if client is None:
            raise InvalidClientError("Unknown client_id.")
        return client


class HybridGrant(OfflineAccessNeedsConsent, FromAuthorizationEndpoint, StoredCodes, OpenIDHybridGrant):
    pass


class OfflineAccess:
    """A refresh token only for the ``offline_access`` scope (OpenID Connect Core 11)."""

    def generate_token(self, user=None, scope=None, grant_type=None, expires_in=None, include_refresh_token=True):
        return super().generate_token(user=user, scope=scope, grant_type=grant_type, expires_in=expires_in,
                                      include_refresh_token=include_refresh_token
                                      and "offline_access" in scope_to_list(scope or ""))


class CodeGrant(OfflineAccessNeedsConsent, OfflineAccess, grants.AuthorizationCodeGrant):
    pass


class PasswordGrant(OfflineAccess, grants.PasswordGrant):
    def validate_token_request(self):
        super().validate_token_request()
        if self.store.needs_totp(self.request.user.user, self.request.client):
            raise InvalidGrantError("This login needs a second factor: use the authorization endpoint.")


class ClientCredentialsGrant(rfc6749.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class Pkce(CodeChallenge):
    """PKCE as configured: ``plain`` refusable (``pkce_plain: false``); a public client is
    refused at the authorization endpoint already when it sends no challenge (RFC 9700 2.1.1)."""

    def __init__(self, allow_plain: bool) -> None:
        super().__init__(required=True)
        self.SUPPORTED_CODE_CHALLENGE_METHOD = ["plain", "S256"] if allow_plain else ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        if grant.client.spec.client_secret is None and not grant.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("A public client must send a code_challenge (PKCE).")
        super().validate_code_challenge(grant, redirect_uri)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS
    issuer: Issuer

    def query_token(self, token_string, token_type_hint):
        store = self.issuer.store
        if token_type_hint == "refresh_token":
            return store.find_refresh_token(token_string) or store.find_access_token(token_string)
        return store.find_access_token(token_string) or store.find_refresh_token(token_string)

    def check_permission(self, token, client, request):
        return token.check_client(client)  # a client may look only at its own tokens

    def introspect_token(self, token):
        claims = {"active": True, "client_id": token.client_id, "token_type": "Bearer", "scope": token.scope,
                  "iat": int(token.issued_at), "exp": int(token.issued_at + token.expires_in),
                  "iss": self.issuer.url}
        if token.login is not None:
            claims.update(sub=token.login.user.id, username=token.login.user.username)
        return claims


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS
    issuer: Issuer

    def query_token(self, token_string, token_type_hint):
        store = self.issuer.store
        return store.find_refresh_token(token_string) or store.find_access_token(token_string)

    def revoke_token(self, token, request):
        self.issuer.store.revoke(token)


class UserInfoFromScope(UserInfoEndpoint):
    issuer: Issuer

    def get_issuer(self):
        return self.issuer.url

    def generate_user_info(self, login, scope):
        return self.issuer.user_info(login, scope)


def build(app, issuer: Issuer) -> None:
    """The issuer's authorization server, grants and endpoints."""
    store = issuer.store
    server = grants.server(app, store)
    pkce = Pkce(store.fixture.pkce_plain)

    def hook(cls):
        return type(cls.__name__, (cls,), {"issuer": issuer})()

    server.register_grant(bind(CodeGrant, store), [pkce, hook(OpenIDCodeHook)])
    server.register_grant(type("ImplicitGrant", (ImplicitGrant,), {"issuer": issuer}))
    server.register_grant(type("HybridGrant", (HybridGrant,), {"issuer": issuer, "store": store}))
    server.register_grant(bind(PasswordGrant, store), [hook(OpenIDTokenHook)])
    server.register_grant(bind(grants.RefreshTokenGrant, store), [hook(OpenIDTokenHook)])
    server.register_grant(ClientCredentialsGrant)
    protector = grants.protector(store)
    server.register_endpoint(type("Introspection", (Introspection,), {"issuer": issuer}))
    server.register_endpoint(type("Revocation", (Revocation,), {"issuer": issuer}))
    server.register_endpoint(type("UserInfo", (UserInfoFromScope,), {"issuer": issuer})(
        resource_protector=protector))
    issuer.server, issuer.protector = server, protector
