"""The Facebook connector: Facebook Login through the Graph API (v3.0), by redirect.

``provider.remoteService`` is the Graph base URL (``https://graph.facebook.com``; the
login dialog is ``<base>/v3.0/dialog/oauth``). ``options``: ``clientId`` (the app id),
``clientSecret`` (the app secret), ``scope`` (the permissions asked for, beyond
``public_profile``), and ``userIdAttribute``, the field of ``/me`` whose value is the
user's id (default ``id``), which takes the place of the service's unique user context
field. The browser comes back to ``/facebook/redirect``.

The code is redeemed with the app secret (Graph refuses it without: the console lists
the secret as optional, but a service without one ends each login in a clear error), the
token exchanged for a long-lived one (``fb_exchange_token``, 60 days at Facebook), and
``/me`` read with ``appsecret_proof``. A permission the user declined is simply absent
from the identity. Facebook issues no refresh token: when the token has expired, the
MIC asks Graph to extend it, which Graph does only for a live token, so the user logs
in again. Graph's errors (``{"error": {code, error_subcode, …}}``) become RFC 6749
errors with a plain description; what Graph said goes to ``debug``.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import replace
from typing import Any, Mapping
from urllib.parse import urlencode

import httpx2

from ..config import AuthService
from .capabilities import ConnectorError, Identity, RedirectLogin, UpstreamRefresh

CALLBACK_PATH = "/facebook/redirect"
GRAPH_VERSION = "v3.0"
TIMEOUT = httpx2.Timeout(10.0, connect=3.0)
#: what the console fills in when the service leaves them out (Kinvey's Facebook defaults)
SERVICE_DEFAULTS = {"grantTtl": 10, "tokenTtl": 3600, "refreshTtl": 1209600}
#: the User fields asked for every login (public_profile), and those a permission releases
PROFILE_FIELDS = ("id", "name", "first_name", "last_name")
PERMISSION_FIELDS = {"email": "email", "user_birthday": "birthday", "user_gender": "gender", "user_link": "link",
                     "user_hometown": "hometown", "user_location": "location"}
#: Graph error codes of a busy or failing Graph (try later), and of the app's own settings
BUSY = {2, 4, 17, 32, 341, 613}
APP_SETTINGS = {1, 101, 191}
#: why Graph refused a user token (error 190's error_subcode), in words the app may show
TOKEN_REASONS = {463: "it has expired", 460: "the user changed their password", 458: "the user removed the app",
                 467: "it is no longer valid"}
_URL = {"type": "string", "pattern": "^https?://"}

PROVIDER_SCHEMA = {
    "type": "object",
    "required": ["remoteService", "options"],
    "properties": {
        "remoteService": {**_URL, "description": "the Graph API's base URL"},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "required": ["clientId"],
            "properties": {
                "clientId": {"type": "string", "minLength": 1, "description": "the Facebook app id"},
                "clientSecret": {"type": "string", "description": "the app secret"},
                "userIdAttribute": {"type": "string", "minLength": 1,
                                    "description": "the /me field that is the user's id (default: id)"},
                "scope": {"type": "string", "description": "permissions, comma- or space-separated"},
            },
        },
    },
}


def build(service: AuthService, transport: httpx2.BaseTransport) -> "FacebookLogin":
    return FacebookLogin(service, transport)


class GraphRefusal(Exception):
    """Graph's error object: its code, subcode and message."""

    def __init__(self, status: int, error: Mapping[str, Any]) -> None:
        super().__init__(str(error.get("message", "")))
        self.status = status
        self.code = error.get("code")
        self.subcode = error.get("error_subcode")
        self.message = str(error.get("message", ""))

    @property
    def debug(self) -> str:
        return f"Graph error {self.code}/{self.subcode} (HTTP {self.status}): {self.message}"


class FacebookLogin(RedirectLogin, UpstreamRefresh):
    callback_path = CALLBACK_PATH

    def __init__(self, service: AuthService, transport: httpx2.BaseTransport) -> None:
        options = service.provider.options
        self.base = f"{service.provider.remote_service.rstrip('/')}/{GRAPH_VERSION}"
        self.client_id = options["clientId"]
        self.secret = options.get("clientSecret") or None
        self.user_id_attribute = options.get("userIdAttribute", "id")
        self.permissions = [p for p in re.split(r"[\s,]+", options.get("scope", "")) if p]
        fields = [*PROFILE_FIELDS, *(PERMISSION_FIELDS[p] for p in self.permissions if p in PERMISSION_FIELDS)]
        self.fields = ",".join(dict.fromkeys([*fields, self.user_id_attribute]))
        self.http = httpx2.Client(transport=transport, timeout=TIMEOUT)

    def login_url(self, callback_url: str, state: str) -> str:
        query = {"client_id": self.client_id, "redirect_uri": callback_url, "state": state, "response_type": "code"}
        if self.permissions:
            query["scope"] = ",".join(self.permissions)
        return f"{self.base}/dialog/oauth?{urlencode(query)}"

    def complete(self, params: Mapping[str, str], callback_url: str, now: float) -> Identity:
        if "error" in params:
            cancelled = params.get("error_reason") == "user_denied" or params["error"] == "access_denied"
            raise ConnectorError("access_denied" if cancelled else "server_error",
                                 "the user cancelled the Facebook login" if cancelled
                                 else "Facebook did not log the user in",
                                 debug=f"Facebook {params['error']} ({params.get('error_reason', '')}): "
                                       f"{params.get('error_description', '')}")
        if not params.get("code"):
            raise ConnectorError("server_error", "Facebook came back without a code")
        try:
            token = self._graph("oauth/access_token", {**self._app(), "redirect_uri": callback_url,
                                                       "code": params["code"]})
            token = self._long_lived(token)
            profile = self._graph("me", {"fields": self.fields, **self._bearer(token)})
        except GraphRefusal as refusal:
            raise _login_error(refusal) from None
        user_id = profile.get(self.user_id_attribute)
        if user_id in (None, ""):
            raise ConnectorError("server_error", "Facebook did not say who the user is",
                                 debug=f"no '{self.user_id_attribute}' in /me")
        return Identity(user_id=str(user_id), attributes=profile, upstream_token=_token(token))

    def refresh(self, identity: Identity, now: float) -> Identity:
        """Graph extends a live token (fb_exchange_token); an expired or revoked one means logging in again."""
        if self.secret is None:
            raise ConnectorError("invalid_grant", "the Facebook login has ended; log in again",
                                 debug="Graph extends a token only for the app secret, which the service lacks")
        try:
            token = self._long_lived(identity.upstream_token)
        except GraphRefusal as refusal:
            reason = TOKEN_REASONS.get(refusal.subcode, "it is no longer valid") if refusal.code == 190 \
                else "Facebook could not extend it"
            raise ConnectorError("invalid_grant", f"the Facebook login has ended ({reason}); log in again",
                                 debug=refusal.debug) from None
        return replace(identity, upstream_token=_token(token))

    # -- Graph calls -----------------------------------------------------------------

    def _app(self) -> dict[str, str]:
        return {"client_id": self.client_id, **({"client_secret": self.secret} if self.secret else {})}

    def _bearer(self, token: Mapping[str, Any]) -> dict[str, str]:
        """The token, with the proof that the caller knows the app secret (when it does)."""
        access_token = str(token["access_token"])
        if self.secret is None:
            return {"access_token": access_token}
        proof = hmac.new(self.secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()
        return {"access_token": access_token, "appsecret_proof": proof}

    def _long_lived(self, token: Mapping[str, Any]) -> Mapping[str, Any]:
        """A long-lived token for ``token``, which takes the app secret; without one, ``token``."""
        if self.secret is None:
            return token
        return self._graph("oauth/access_token", {**self._app(), "grant_type": "fb_exchange_token",
                                                  "fb_exchange_token": str(token.get("access_token", ""))})

    def _graph(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """Graph's JSON object for ``path``, or its refusal (GraphRefusal), or a ConnectorError."""
        try:
            response = self.http.get(f"{self.base}/{path}", params=params)
        except httpx2.HTTPError as exc:
            raise ConnectorError("temporarily_unavailable", "Facebook could not be reached",
                                 debug=f"{type(exc).__name__} calling Graph /{path.split('/')[0]}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise GraphRefusal(response.status_code, body["error"])
        if response.status_code >= 500:
            raise ConnectorError("temporarily_unavailable", "Facebook is not answering now",
                                 debug=f"Graph /{path} answered {response.status_code}")
        if response.status_code != 200 or not isinstance(body, dict) or (
                path.startswith("oauth/") and not isinstance(body.get("access_token"), str)):
            raise ConnectorError("server_error", "Facebook sent an answer the MIC cannot read",
                                 debug=f"Graph /{path} answered {response.status_code} without what it should hold")
        return body


def _token(token: Mapping[str, Any]) -> dict[str, Any]:
    """What the vault keeps of Graph's token (and data links receive)."""
    return {k: token[k] for k in ("access_token", "token_type", "expires_in") if k in token}


def _login_error(refusal: GraphRefusal) -> ConnectorError:
    """Graph's refusal during a login, as the error the app is sent back with."""
    if refusal.code == 190:
        reason = TOKEN_REASONS.get(refusal.subcode, "it is not valid")
        return ConnectorError("access_denied", f"Facebook refused the login's access token ({reason})",
                              debug=refusal.debug)
    if refusal.code in BUSY or refusal.status >= 500:
        return ConnectorError("temporarily_unavailable", "Facebook is busy; try again later", debug=refusal.debug)
    if refusal.code in APP_SETTINGS:
        return ConnectorError("server_error", "Facebook refused the MIC's app settings (app id, secret or "
                                              "redirect URI)", debug=refusal.debug)
    return ConnectorError("server_error", "Facebook refused the login", debug=refusal.debug)
