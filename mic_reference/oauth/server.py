"""The MIC's authorization server: authlib's Flask server with MIC's token shape and errors."""
from __future__ import annotations

import secrets
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenGenerator

from plumbing.grants import EchoSafeErrors

from ..records import IssuedToken
from ..vault import Vault
from .clients import ClientDirectory
from .errors import json_error
from .grants import AuthorizationCodeGrant, MicCodeChallenge, PasswordGrant, RefreshTokenGrant
from .limits import MAX_FIELD, FieldLimits


class MicTokenGenerator(BearerTokenGenerator):
    """Bearer tokens with the service's token TTL; ``"refresh_token": "null"`` when refresh is off.

    The string ``"null"`` is what Kinvey answered, and what the SDKs expect.
    """

    def __init__(self) -> None:
        super().__init__(self._random, self._random, self._expires_in)

    @staticmethod
    def _random(*_args: Any, **_kwargs: Any) -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def _expires_in(client: Any, grant_type: str) -> int:
        return client.service.token_ttl

    def generate(self, grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        token = super().generate(grant_type, client, user=user, scope=scope, expires_in=expires_in,
                                 include_refresh_token=include_refresh_token and client.service.refresh)
        token.setdefault("refresh_token", "null")
        return token


class MicAuthorizationServer(EchoSafeErrors, AuthorizationServer):
    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        # A login completed at the upstream callback is resumed from the stored request.
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def get_consent_grant(self, request: Any = None, end_user: Any = None) -> Any:
        try:
            return super().get_consent_grant(request=request, end_user=end_user)
        except OAuth2Error as error:
            if error.state and len(error.state) > MAX_FIELD:
                error.state = None  # refused for its length: not echoed into a redirect either
            raise

    def authenticate_client(self, request: Any, methods: list[str], endpoint: str = "token") -> Any:
        """RFC 6749 2.3: one authentication method per request, naming one client.

        Basic credentials with a ``client_secret`` in the body too are refused (2.3, 5.2:
        more than one mechanism), and so is a body ``client_id`` naming another client
        than Basic does. A body ``client_id`` of the Basic app key's own service
        (``appKey.serviceId``, as the SDKs refresh) is that app's client for the service.
        """
        basic_id, _ = extract_basic_authorization(request.headers)
        named = request.payload.data.get("client_id")
        if basic_id is None:
            return super().authenticate_client(request, methods, endpoint)
        if "client_secret" in request.payload.data:
            raise InvalidRequestError("The client authenticated both by HTTP Basic and by client_secret in the "
                                      "body; use one method only.")
        client = super().authenticate_client(request, methods, endpoint)
        if not named or named == basic_id:
            return client
        app_key, dot, _ = named.partition(".")
        if not dot or app_key != basic_id:
            raise InvalidRequestError("The client_id in the body names another client than the Basic credentials.")
        service_client = self.query_client(named)
        if service_client is None:
            raise InvalidClientError("The client does not exist on this server.", status_code=401)
        return service_client

    def handle_error_response(self, request: Any, error: Any) -> Any:
        if error.redirect_uri:
            return super().handle_error_response(request, error)
        return self.handle_response(*json_error(error))


def build(app: Any, clients: ClientDirectory, vault: Vault) -> MicAuthorizationServer:
    def save_token(token: dict[str, Any], request: Any) -> None:
        refresh = token.get("refresh_token")
        refresh = None if refresh == "null" else refresh
        now = vault.clock.now()
        vault.put_token(IssuedToken(
            access_token=token["access_token"], refresh_token=refresh, client_id=request.client.get_client_id(),
            scope=token.get("scope", ""), grant=request.user, issued_at=now, expires_in=int(token["expires_in"]),
            refresh_expires_at=now + request.client.service.refresh_ttl if refresh else None, clock=vault.clock))

    server = MicAuthorizationServer(app, query_client=clients, save_token=save_token)
    server.vault = vault
    server.register_token_generator("default", MicTokenGenerator())
    server.register_grant(AuthorizationCodeGrant, [MicCodeChallenge(required=False), FieldLimits()])
    server.register_grant(PasswordGrant)
    server.register_grant(RefreshTokenGrant)
    return server
