"""The OAuth2 connector: an upstream OAuth2 provider, by authorization code or password grant.

``provider.remoteService`` is the upstream token endpoint. With ``grantType:
authorization-code`` the MIC sends the browser to ``grantEndpoint`` and takes the
callback at ``/oauth2/redirect``; with ``password`` it forwards the credentials it
received (resource owner password grant). The user id is ``userIdAttribute`` of the
token response, or of the JSON that ``userIdEndpoint`` returns for the access token.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from ..config import AuthService
from .capabilities import ConnectorError, Identity, PasswordLogin, RedirectLogin, UpstreamRefresh

TIMEOUT = httpx2.Timeout(10.0, connect=3.0)
#: where the upstream sends the browser back (registered with the upstream)
CALLBACK_PATH = "/oauth2/redirect"
_URL = {"type": "string", "pattern": "^https?://"}

PROVIDER_SCHEMA = {
    "type": "object",
    "required": ["remoteService", "options"],
    "properties": {
        "remoteService": _URL,
        "options": {
            "type": "object",
            "additionalProperties": False,
            "required": ["grantType", "clientId", "userIdAttribute"],
            "properties": {
                "grantType": {"enum": ["authorization-code", "password"]},
                "grantEndpoint": _URL,
                "clientId": {"type": "string", "minLength": 1},
                "clientSecret": {"type": "string"},
                "userIdAttribute": {"type": "string", "minLength": 1},
                "userIdEndpoint": _URL,
                "scope": {"type": "string"},
            },
            "if": {"properties": {"grantType": {"const": "authorization-code"}}},
            "then": {"required": ["grantEndpoint"]},
        },
    },
}


def build(service: AuthService, transport: httpx2.BaseTransport) -> "OAuth2Upstream":
    if service.provider.options["grantType"] == "password":
        return OAuth2PasswordLogin(service, transport)
    return OAuth2CodeLogin(service, transport)


class OAuth2Upstream(UpstreamRefresh):
    """What every OAuth2-based connector shares: the upstream client, the code redemption and refresh."""

    def __init__(self, service: AuthService, transport: httpx2.BaseTransport, scope: str | None = None) -> None:
        options = service.provider.options
        self.token_endpoint = service.provider.remote_service
        self.client = OAuth2Client(
            client_id=options["clientId"], client_secret=options.get("clientSecret"),
            token_endpoint_auth_method="client_secret_basic" if options.get("clientSecret") else "none",
            scope=scope or options.get("scope"), timeout=TIMEOUT, transport=transport)

    def refresh(self, identity: Identity, now: float) -> Identity:
        refresh_token = identity.upstream_token.get("refresh_token")
        if not refresh_token:
            raise ConnectorError("invalid_grant", "the identity provider's session has expired; log in again",
                                 debug="the upstream issued no refresh token")
        token = self._fetch_token(grant_type="refresh_token", refresh_token=refresh_token)
        # RFC 6749 6: the upstream may keep the old refresh token by not sending a new one.
        return replace(identity, upstream_token={"refresh_token": refresh_token, **token})

    def _redeem(self, params: Mapping[str, str], callback_url: str, **extra: str) -> dict[str, Any]:
        """The upstream's tokens for the code its callback carries (``extra``: more of the token request,
        such as a PKCE verifier), or its refusal as a ConnectorError."""
        if "error" in params:
            error = "access_denied" if params["error"] == "access_denied" else "server_error"
            raise ConnectorError(error, "the identity provider did not log the user in",
                                 debug=f"upstream {params['error']}: {params.get('error_description', '')}")
        if not params.get("code"):
            raise ConnectorError("server_error", "the identity provider came back without a code")
        return self._fetch_token(grant_type="authorization_code", code=params["code"], redirect_uri=callback_url,
                                 **extra)

    def _fetch_token(self, **params: Any) -> dict[str, Any]:
        try:
            token = dict(self.client.fetch_token(self.token_endpoint, **params))
        except OAuthError as exc:
            error = "invalid_grant" if exc.error in ("invalid_grant", "access_denied") else "server_error"
            raise ConnectorError(error, "the identity provider refused the login",
                                 debug=f"upstream {exc.error}: {exc.description}") from None
        except httpx2.HTTPError as exc:
            raise ConnectorError("temporarily_unavailable", "the identity provider could not be reached",
                                 debug=f"{type(exc).__name__} calling the upstream token endpoint") from None
        except (ValueError, TypeError, RecursionError):  # not JSON, a field of the wrong type, too deep
            raise ConnectorError("server_error", "the identity provider sent an unreadable token response",
                                 debug="upstream token response is not JSON") from None
        # RFC 6749 5.1: a successful answer carries the access token; without one nothing was issued
        if not isinstance(token.get("access_token"), str) or not token["access_token"]:
            raise ConnectorError("server_error", "the identity provider sent a token response without a token",
                                 debug="upstream token response has no access_token")
        return token

    def _get_json(self, url: str, what: str, access_token: str | None = None) -> dict[str, Any]:
        """A JSON object from the upstream (a user endpoint, a discovery document, a JWKS)."""
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        try:
            response = self.client.request("GET", url, withhold_token=True, headers=headers)
        except httpx2.HTTPError as exc:
            raise ConnectorError("temporarily_unavailable", "the identity provider could not be reached",
                                 debug=f"{type(exc).__name__} calling the {what}") from None
        if response.status_code != 200:
            raise ConnectorError("server_error", f"the identity provider refused the {what} request",
                                 debug=f"{what} answered {response.status_code}")
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise ConnectorError("server_error", f"the identity provider sent an unreadable {what}",
                                 debug=f"{what} answer is not a JSON object")
        return body


class UserIdLookup(OAuth2Upstream):
    """The user id is ``userIdAttribute`` of the token response, or of the user id endpoint's JSON."""

    def __init__(self, service: AuthService, transport: httpx2.BaseTransport) -> None:
        super().__init__(service, transport)
        options = service.provider.options
        self.user_id_attribute = options["userIdAttribute"]
        self.user_id_endpoint = options.get("userIdEndpoint")

    def _identity(self, token: dict[str, Any]) -> Identity:
        attributes: dict[str, Any] = {}
        if self.user_id_endpoint:
            attributes = self._get_json(self.user_id_endpoint, "user id endpoint", token["access_token"])
        user_id = attributes.get(self.user_id_attribute, token.get(self.user_id_attribute))
        if user_id in (None, ""):
            raise ConnectorError("server_error", "the identity provider did not say who the user is",
                                 debug=f"no '{self.user_id_attribute}' in the token response or user endpoint")
        return Identity(user_id=str(user_id), attributes=attributes, upstream_token=token)


class OAuth2CodeLogin(UserIdLookup, RedirectLogin):
    callback_path = CALLBACK_PATH

    def __init__(self, service: AuthService, transport: httpx2.BaseTransport) -> None:
        super().__init__(service, transport)
        self.grant_endpoint = service.provider.options["grantEndpoint"]

    def login_url(self, callback_url: str, state: str) -> str:
        url, _ = self.client.create_authorization_url(self.grant_endpoint, redirect_uri=callback_url, state=state)
        return url

    def complete(self, params: Mapping[str, str], callback_url: str, now: float) -> Identity:
        return self._identity(self._redeem(params, callback_url))


class OAuth2PasswordLogin(UserIdLookup, PasswordLogin):
    def password_login(self, username: str, password: str) -> Identity:
        return self._identity(self._fetch_token(grant_type="password", username=username, password=password))
