"""The OpenID Connect connector: an upstream OpenID provider, by authorization code.

``provider.remoteService`` is the provider's token endpoint, ``options.grantEndpoint``
its authorization endpoint and ``options.issuerId`` its issuer identifier; the JWKS is
found through the issuer's discovery document. The browser comes back to
``/oidc/redirect``. The id_token is checked before anything is believed: its signature
against the issuer's JWKS (fetched again once when it names a key not seen yet, as after
a rotation), ``iss``, ``aud``, ``exp``, ``iat`` on the MIC's clock, the ``nonce`` this
login sent, and ``at_hash`` when present. The user id is ``sub``.
"""
from __future__ import annotations

import base64
import hashlib
import threading
from typing import Any, Mapping

import httpx2
from authlib.oidc.core import CodeIDToken
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..config import AuthService
from .capabilities import ConnectorError, Identity, RedirectLogin
from .oauth2 import OAuth2Upstream

CALLBACK_PATH = "/oidc/redirect"
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
#: seconds of clock difference tolerated between the MIC and the provider
LEEWAY = 30
_URL = {"type": "string", "pattern": "^https?://"}
#: claims about the token itself, not about the user
TOKEN_CLAIMS = {"iss", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "at_hash", "c_hash", "azp", "amr", "acr",
                "jti", "sid"}

PROVIDER_SCHEMA = {
    "type": "object",
    "required": ["remoteService", "options"],
    "properties": {
        "remoteService": _URL,
        "options": {
            "type": "object",
            "additionalProperties": False,
            "required": ["grantEndpoint", "clientId", "issuerId"],
            "properties": {
                "grantEndpoint": _URL,
                "clientId": {"type": "string", "minLength": 1},
                "clientSecret": {"type": "string"},
                "issuerId": {**_URL, "description": "the provider's issuer identifier (the id_token's iss)"},
                "scope": {"type": "string", "description": "space-separated; openid is always asked for"},
            },
        },
    },
}


def build(service: AuthService, transport: httpx2.BaseTransport) -> "OpenIDConnectLogin":
    return OpenIDConnectLogin(service, transport)


def nonce_for(state: str) -> str:
    """The nonce of a login: a hash of its state (the MIC's secret reference to the pending
    login), so the id_token is bound to this login without keeping anything more."""
    return base64.urlsafe_b64encode(hashlib.sha256(state.encode()).digest()).rstrip(b"=").decode()


class OpenIDConnectLogin(OAuth2Upstream, RedirectLogin):
    callback_path = CALLBACK_PATH

    def __init__(self, service: AuthService, transport: httpx2.BaseTransport) -> None:
        options = service.provider.options
        scope = options.get("scope", "").split()
        super().__init__(service, transport, " ".join(["openid", *(s for s in scope if s != "openid")]))
        self.grant_endpoint = options["grantEndpoint"]
        self.issuer = options["issuerId"].rstrip("/")
        self.client_id = options["clientId"]
        self._keys: KeySet | None = None
        self._keys_lock = threading.Lock()

    def login_url(self, callback_url: str, state: str) -> str:
        url, _ = self.client.create_authorization_url(self.grant_endpoint, redirect_uri=callback_url, state=state,
                                                      nonce=nonce_for(state))
        return url

    def complete(self, params: Mapping[str, str], callback_url: str, now: float) -> Identity:
        token = self._redeem(params, callback_url)
        claims = self._checked(token, now, nonce=nonce_for(params.get("state", "")))
        return Identity(user_id=str(claims["sub"]), upstream_token=token,
                        attributes={k: v for k, v in claims.items() if k not in TOKEN_CLAIMS})

    def refresh(self, identity: Identity, now: float) -> Identity:
        refreshed = super().refresh(identity, now)
        if "id_token" in refreshed.upstream_token and refreshed.upstream_token is not identity.upstream_token:
            claims = self._checked(dict(refreshed.upstream_token), now, nonce=None)
            if str(claims["sub"]) != identity.user_id:  # OpenID Connect Core 12.2
                raise ConnectorError("invalid_grant", "the identity provider's refreshed login is someone else's",
                                     debug="the refreshed id_token has another sub")
        return refreshed

    # -- the id_token ---------------------------------------------------------------

    def _checked(self, token: dict[str, Any], now: float, nonce: str | None) -> CodeIDToken:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise ConnectorError("access_denied", "the identity provider sent no id_token",
                                 debug="no id_token in the token response (is openid in the scope?)")
        try:
            decoded = jwt.decode(id_token, self._key_set_for(id_token), algorithms=ALGORITHMS)
            claims = CodeIDToken(decoded.claims, decoded.header, options={
                "iss": {"essential": True, "value": self.issuer},
                "aud": {"essential": True, "value": self.client_id},
            }, params={"nonce": nonce, "access_token": token.get("access_token"), "client_id": self.client_id})
            claims.validate(now=int(now), leeway=LEEWAY)
        except (JoseError, ValueError) as exc:
            raise ConnectorError("access_denied", "the identity provider's id_token was refused",
                                 debug=f"id_token: {_reason(exc)}") from None
        if nonce is not None and "nonce" not in claims:
            raise ConnectorError("access_denied", "the identity provider's id_token was refused",
                                 debug="id_token: missing nonce")
        return claims

    def _key_set_for(self, id_token: str) -> KeySet:
        """The issuer's keys, fetched again when the token names a kid they lack (a rotation)."""
        try:
            kid = jws.extract_compact(id_token.encode()).protected.get("kid")
        except (JoseError, ValueError):
            raise ConnectorError("access_denied", "the identity provider's id_token was refused",
                                 debug="id_token: not a JWS compact serialization") from None
        with self._keys_lock:
            keys = self._keys
        if keys is None or (kid is not None and not any(k.kid == kid for k in keys.keys)):
            keys = self._fetch_keys()
            with self._keys_lock:
                self._keys = keys
        return keys

    def _fetch_keys(self) -> KeySet:
        discovery = self._get_json(f"{self.issuer}/.well-known/openid-configuration", "discovery document")
        if discovery.get("issuer", "").rstrip("/") != self.issuer or not isinstance(discovery.get("jwks_uri"), str):
            raise ConnectorError("server_error", "the identity provider's discovery document is not its own",
                                 debug=f"discovery issuer {discovery.get('issuer')!r}, expected {self.issuer!r}")
        try:
            return KeySet.import_key_set(self._get_json(discovery["jwks_uri"], "JWKS"))
        except (JoseError, ValueError, KeyError, TypeError):
            raise ConnectorError("server_error", "the identity provider's JWKS is unreadable",
                                 debug="JWKS could not be imported") from None


def _reason(exc: Exception) -> str:
    """joserfc's error as a short, log-safe phrase (never the token)."""
    return getattr(exc, "description", None) or getattr(exc, "error", None) or type(exc).__name__
