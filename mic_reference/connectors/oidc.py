"""The OpenID Connect connector: an upstream OpenID provider, by authorization code.

``options.issuerId`` is the provider's issuer identifier: its discovery document names the
authorization and token endpoints and the JWKS. ``options.grantEndpoint`` (authorization)
and ``provider.remoteService`` (token), when given, win over discovery. Asking for
``offline_access`` sends ``prompt=consent``, without which OpenID Connect Core 11 has the
provider drop that scope (and no refresh token comes); ``options.prompt`` says otherwise.
With a client secret, every login also sends a PKCE challenge (S256, RFC 7636), as
providers such as oidc-provider require of every client by default (RFC 9700 2.1.1).
The browser comes back to ``/oidc/redirect``, where an ``iss`` must be the issuer's (RFC
9207: a mix-up is refused before the code is sent anywhere). The id_token is checked
before anything is believed: its signature against the issuer's JWKS (fetched again once
when it names a key not seen yet, as after a rotation), ``iss``, ``aud``, ``exp``, ``iat``
on the MIC's clock, the ``nonce`` this login sent, and ``at_hash`` when present. The user
id is ``sub``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
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

_OFFLINE = "(^| )offline_access( |$)"

PROVIDER_SCHEMA = {
    "type": "object",
    "required": ["options"],
    "properties": {
        "remoteService": {**_URL, "description": "the token endpoint (default: the discovery document's)"},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "required": ["clientId", "issuerId"],
            "properties": {
                "grantEndpoint": {**_URL, "description": "the authorization endpoint (default: discovery's)"},
                "clientId": {"type": "string", "minLength": 1},
                "clientSecret": {"type": "string"},
                "issuerId": {**_URL, "description": "the provider's issuer identifier (the id_token's iss)"},
                "scope": {"type": "string", "description": "space-separated; openid is always asked for"},
                "prompt": {"type": "string", "pattern": "^(none|(login|consent|select_account)"
                                                       "( (login|consent|select_account))*)$",
                           "description": "the authentication request's prompt (OpenID Connect Core 3.1.2.1); "
                                          "default: consent when the scope has offline_access, else none sent"},
            },
            # OpenID Connect Core 11: offline_access without prompt=consent is dropped by the provider
            "if": {"required": ["scope", "prompt"], "properties": {"scope": {"pattern": _OFFLINE}}},
            "then": {"properties": {"prompt": {"pattern": "(^| )consent( |$)",
                                               "description": "must include consent when the scope asks "
                                                              "for offline_access (OpenID Connect Core 11)"}}},
        },
    },
}


def build(service: AuthService, transport: httpx2.BaseTransport) -> "OpenIDConnectLogin":
    return OpenIDConnectLogin(service, transport)


def verifier_for(state: str, client_secret: str) -> str:
    """The PKCE code verifier of a login: keyed by the client secret, so one who sees the state
    and the code in the redirect still cannot make it (RFC 7636 7.1), with nothing kept."""
    digest = hmac.new(client_secret.encode(), f"pkce {state}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def nonce_for(state: str) -> str:
    """The nonce of a login: a hash of its state (the MIC's secret reference to the pending
    login), so the id_token is bound to this login without keeping anything more."""
    return base64.urlsafe_b64encode(hashlib.sha256(state.encode()).digest()).rstrip(b"=").decode()


class OpenIDConnectLogin(OAuth2Upstream, RedirectLogin):
    callback_path = CALLBACK_PATH

    def __init__(self, service: AuthService, transport: httpx2.BaseTransport) -> None:
        options = service.provider.options
        scope = options.get("scope", "").split()
        self._endpoints = {"authorization_endpoint": options.get("grantEndpoint")}
        super().__init__(service, transport, " ".join(["openid", *(s for s in scope if s != "openid")]))
        self.issuer = options["issuerId"].rstrip("/")
        self.client_id = options["clientId"]
        self.client_secret = options.get("clientSecret")
        self.prompt = options.get("prompt", "consent" if "offline_access" in scope else None)
        self._discovery: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    @property
    def token_endpoint(self) -> str:
        return self._endpoint("token_endpoint")

    @token_endpoint.setter
    def token_endpoint(self, url: str | None) -> None:
        """``remoteService`` (the base class sets it): an explicit token endpoint, or None for discovery's."""
        self._endpoints["token_endpoint"] = url

    def login_url(self, callback_url: str, state: str) -> str:
        extra = {"prompt": self.prompt} if self.prompt else {}
        if self.client_secret:
            extra |= {"code_challenge": _s256(verifier_for(state, self.client_secret)),
                      "code_challenge_method": "S256"}
        url, _ = self.client.create_authorization_url(self._endpoint("authorization_endpoint"),
                                                      redirect_uri=callback_url, state=state,
                                                      nonce=nonce_for(state), **extra)
        return url

    def complete(self, params: Mapping[str, str], callback_url: str, now: float) -> Identity:
        if "iss" in params and params["iss"].rstrip("/") != self.issuer:  # RFC 9207 2.4: a mix-up
            raise ConnectorError("access_denied", "the login came back from another identity provider",
                                 debug=f"authorization response iss {params['iss']!r}, expected {self.issuer!r}")
        state = params.get("state", "")
        pkce = {"code_verifier": verifier_for(state, self.client_secret)} if self.client_secret else {}
        token = self._redeem(params, callback_url, **pkce)
        claims = self._checked(token, now, nonce=nonce_for(state))
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
        with self._lock:
            keys = self._keys
        if keys is None or (kid is not None and not any(k.kid == kid for k in keys.keys)):
            keys = self._fetch_keys()
            with self._lock:
                self._keys = keys
        return keys

    def _fetch_keys(self) -> KeySet:
        """The JWKS the discovery document names, both read afresh (a rotation may have moved it)."""
        try:
            return KeySet.import_key_set(self._get_json(self._discovered("jwks_uri", fresh=True), "JWKS"))
        except (JoseError, ValueError, KeyError, TypeError):
            raise ConnectorError("server_error", "the identity provider's JWKS is unreadable",
                                 debug="JWKS could not be imported") from None

    # -- discovery (OpenID Connect Discovery 1.0) ---------------------------------------

    def _endpoint(self, name: str) -> str:
        """An endpoint as configured, else as the discovery document names it."""
        return self._endpoints[name] or self._discovered(name)

    def _discovered(self, name: str, fresh: bool = False) -> str:
        with self._lock:
            document = None if fresh else self._discovery
        if document is None:
            document = self._get_json(f"{self.issuer}/.well-known/openid-configuration", "discovery document")
            if not isinstance(document.get("issuer"), str) or document["issuer"].rstrip("/") != self.issuer:
                raise ConnectorError("server_error", "the identity provider's discovery document is not its own",
                                     debug=f"discovery issuer {document.get('issuer')!r}, expected {self.issuer!r}")
            with self._lock:
                self._discovery = document
        url = document.get(name)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ConnectorError("server_error", "the identity provider's discovery document is incomplete",
                                 debug=f"discovery document has no {name} URL")
        return url


def _reason(exc: Exception) -> str:
    """joserfc's error as a short, log-safe phrase (never the token)."""
    return getattr(exc, "description", None) or getattr(exc, "error", None) or type(exc).__name__
