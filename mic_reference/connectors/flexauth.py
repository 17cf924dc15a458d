"""The FlexAuth connector: a password checked by a custom auth service (Kinvey's FlexAuth contract).

``provider.remoteService`` is the service's base URL; the MIC posts ``{username,
password, options}`` as JSON to ``<remoteService>/_auth/<handlerName>`` with the shared
``X-Auth-Key`` (``options.authKey``) and the metadata headers of the contract as
kinvey-flex-sdk reads them: ``X-Kinvey-App-Metadata`` (``_id``, ``applicationId``,
``name``, ``environment`` and ``baasUrl``, the MIC's public URL, where its backend answers
the SDK's ``dataStore``/``userStore`` modules), ``X-Kinvey-Original-Request-Headers``
(lowercase names, the client's secrets left out), ``X-Kinvey-Environment-Id``,
``X-Kinvey-Request-Id``.

A 200 ``{"authenticated": true, "token": …, <attributes>}`` logs the user in: the token
is opaque (any JSON value), kept in the vault, sealed, and reaches data links as
``client_token`` (its ``access_token``, or the token itself); the other members become
the identity's attributes. Its ``expires_in`` is the service's business: the MIC's own
TTLs govern the login, and nothing here asks the service again. The user id is the
attribute ``options.userIdAttribute`` names, else the username as typed (what Kinvey's
MIC took for FlexAuth users).

The contract has one refusal for a login, ``401 access_denied``: wrong credentials and
refusals another try cannot mend alike, so it is the app's ``invalid_grant`` (the login
page asks again) carrying the service's own words (a string, or the ``message`` of the
Error the SDK serialises); ``server_error`` and ``temporarily_unavailable`` pass
through. Whatever else the service does (another status, a body that is not the
contract's, too big, too slow, not there) is a clean ``server_error`` or
``temporarily_unavailable``, within ``options.timeout`` seconds.
"""
from __future__ import annotations

import json
import time
import unicodedata
from typing import Any, Mapping
from urllib.parse import quote

import httpx2

from ..config import AuthService
from .capabilities import ConnectorError, Identity, LoginContext, PasswordLogin, credentials_fit, current_login

#: a password login at MIC's own page or its token endpoint; nothing comes back by redirect
CALLBACK_PATH = None
DEFAULT_TIMEOUT = 5
MAX_TIMEOUT = 30
#: the most of an answer the MIC reads; a login answer is a few hundred bytes
MAX_ANSWER = 64 * 1024
#: the most of the service's error_description the app is shown (characters)
MAX_DESCRIPTION = 200
#: what RFC 6749 5.2 lets an error_description hold: printable ASCII but '"' and '\\'
_DESCRIBABLE = frozenset(map(chr, range(0x20, 0x7F))) - {'"', "\\"}
BAD_CREDENTIALS = "The username or password is not right."
_REFUSALS = {"access_denied": "invalid_grant", "server_error": "server_error",
             "temporarily_unavailable": "temporarily_unavailable"}
#: statuses by which a service (or a proxy before it) says it is away, not broken
_AWAY = frozenset({502, 503, 504})

PROVIDER_SCHEMA = {
    "type": "object",
    "required": ["remoteService", "options"],
    "properties": {
        "remoteService": {"type": "string", "pattern": "^https?://[^?#]+$",
                          "description": "the custom auth service's base URL"},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "required": ["handlerName", "authKey"],
            "properties": {
                "handlerName": {"type": "string", "pattern": "^[A-Za-z0-9._~-]+$",
                                "description": "the handler the service registered: POST /_auth/<handlerName>"},
                "authKey": {"type": "string", "minLength": 1, "description": "the shared secret sent as X-Auth-Key"},
                "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_TIMEOUT,
                            "description": f"seconds the service may take to answer (default {DEFAULT_TIMEOUT})"},
                "userIdAttribute": {"type": "string", "minLength": 1,
                                    "description": "the answer's attribute that is the user id "
                                                   "(default: the username as typed)"},
                "handlerOptions": {"type": "object", "description": "sent to the handler as the body's options"},
            },
        },
    },
}


def build(service: AuthService, transport: httpx2.BaseTransport) -> "FlexAuthLogin":
    return FlexAuthLogin(service, transport)


class FlexAuthLogin(PasswordLogin):
    def __init__(self, service: AuthService, transport: httpx2.BaseTransport) -> None:
        options = service.provider.options
        self.url = f"{service.provider.remote_service.rstrip('/')}/_auth/{quote(options['handlerName'])}"
        self.auth_key = options["authKey"]
        self.timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
        self.user_id_attribute = options.get("userIdAttribute")
        self.handler_options = dict(options.get("handlerOptions", {}))
        self.client = httpx2.Client(transport=transport, timeout=httpx2.Timeout(self.timeout),
                                    follow_redirects=False)

    def password_login(self, username: str, password: str) -> Identity:
        if not credentials_fit(username, password):
            raise ConnectorError("invalid_grant", BAD_CREDENTIALS,
                                 debug="no username or password, or one longer than the MIC forwards")
        status, body = self._post({"username": username, "password": password, "options": self.handler_options},
                                  current_login())
        if status == 200:
            return self._identity(username, body)
        if status == 401:
            raise _refusal(body)
        error = "temporarily_unavailable" if status in _AWAY else "server_error"
        raise ConnectorError(error, "the auth service could not check the login",
                             debug=f"the auth service answered {status}, not 200 or 401")

    def _post(self, payload: dict[str, Any], login: LoginContext | None) -> tuple[int, Any]:
        """The service's status and JSON answer (None when it is not JSON), read within the timeout."""
        deadline = time.monotonic() + self.timeout
        try:
            with self.client.stream("POST", self.url, json=payload, headers=self._headers(login)) as response:
                raw = bytearray()
                for chunk in response.iter_bytes():
                    raw += chunk
                    if len(raw) > MAX_ANSWER:
                        raise ConnectorError("server_error", "the auth service could not check the login",
                                             debug=f"the answer is over {MAX_ANSWER} bytes")
                    if time.monotonic() > deadline:
                        raise httpx2.ReadTimeout("the answer took longer than the timeout")
                status = response.status_code
        except httpx2.TimeoutException:
            raise ConnectorError("temporarily_unavailable", "the auth service did not answer in time",
                                 debug=f"no whole answer within {self.timeout:g} s") from None
        except httpx2.HTTPError as exc:
            raise ConnectorError("temporarily_unavailable", "the auth service could not be reached",
                                 debug=f"{type(exc).__name__} calling the auth service") from None
        try:
            return status, json.loads(bytes(raw))
        except ValueError:  # includes an answer that is not UTF-8
            return status, None

    def _headers(self, login: LoginContext | None) -> dict[str, str]:
        headers = {"X-Auth-Key": self.auth_key, "Accept": "application/json"}
        if login is not None:
            metadata = {"_id": login.app_key, "applicationId": login.app_id, "name": login.app_name,
                        "environment": login.environment}
            if login.public_url:  # the backend the SDK's modules call: the MIC serves it itself
                metadata["baasUrl"] = login.public_url
            headers |= {
                "X-Kinvey-App-Metadata": json.dumps(metadata),
                "X-Kinvey-Original-Request-Headers": json.dumps({name.lower(): value for name, value
                                                                 in login.request_headers.items()}),
                "X-Kinvey-Environment-Id": login.app_key,
                "X-Kinvey-Request-Id": login.request_id,
            }
        return headers

    def _identity(self, username: str, body: Any) -> Identity:
        if not isinstance(body, dict) or not isinstance(body.get("authenticated"), bool):
            raise ConnectorError("server_error", "the auth service could not check the login",
                                 debug="a 200 answer that is not {\"authenticated\": true|false, …}")
        if not body["authenticated"]:
            raise ConnectorError("invalid_grant", _description(body, BAD_CREDENTIALS),
                                 debug="the auth service answered authenticated: false")
        attributes = {k: v for k, v in body.items() if k not in ("authenticated", "token")}
        token = _upstream_token(body.get("token"))
        user_id: Any = username
        if self.user_id_attribute is not None:
            user_id = attributes.get(self.user_id_attribute)
            if isinstance(user_id, bool) or not isinstance(user_id, (str, int)) or user_id == "":
                raise ConnectorError("server_error", "the auth service did not say who the user is",
                                     debug=f"no '{self.user_id_attribute}' (a string or number) in its answer")
        return Identity(user_id=str(user_id), attributes=attributes, upstream_token=token)


def _upstream_token(token: Any) -> dict[str, Any]:
    """The service's token as the vault keeps it: as sent (``token``), and what data links carry
    (``access_token``). No ``expires_in`` beside them: the MIC's TTLs, not the service's, end a login."""
    if token is None or token == "" or token == {}:
        raise ConnectorError("server_error", "the auth service logged the user in without a token",
                             debug="authenticated: true without a token")
    if isinstance(token, dict) and isinstance(token.get("access_token"), str):
        carried = token["access_token"]
    else:
        carried = token if isinstance(token, str) else json.dumps(token, separators=(",", ":"))
    return {"access_token": carried, "token": token}


def _refusal(body: Any) -> ConnectorError:
    """The contract's 401: one of its three errors, with the service's reason; anything else is broken."""
    error = body.get("error") if isinstance(body, dict) else None
    if error not in _REFUSALS:
        return ConnectorError("server_error", "the auth service could not check the login",
                              debug="a 401 answer without the contract's error")
    default = BAD_CREDENTIALS if error == "access_denied" else "the auth service could not check the login"
    return ConnectorError(_REFUSALS[error], _description(body, default), debug=f"the auth service answered {error}")


def _description(body: Mapping[str, Any], default: str) -> str:
    """The service's error_description, fit to show the app: what RFC 6749 5.2 allows (accents
    dropped, other characters spaced out), not too long; else ``default``."""
    text = body.get("error_description")
    if isinstance(text, dict):  # kinvey-flex-sdk sends an Error as {name, message, stack}: never the stack
        text = text.get("message")
    if not isinstance(text, str):
        return default
    text = "".join(c if c in _DESCRIBABLE else "'" if c == '"' else " "
                   for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = " ".join(text.split())
    if not text:
        return default
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 3] + "..."
