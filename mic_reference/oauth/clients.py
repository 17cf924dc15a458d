"""Kinvey identifiers as OAuth2 clients (RFC 6749 section 2).

``client_id`` is an environment's app key, optionally followed by ``.serviceId``; the
client secret is the environment's app secret. The client is the pair (environment,
auth service), so the service decides redirect URIs, TTLs and which grants work.
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from authlib.oauth2.rfc6749 import ClientMixin

from plumbing.masking import SECRET_HEADERS

from ..config import AuthService, Environment, MicConfig
from ..connectors.capabilities import LoginContext, PasswordLogin, RedirectLogin, SamlLogin


@dataclass
class MicClient(ClientMixin):
    client_id: str
    environment: Environment
    service: AuthService
    connector: Any
    #: where apps and identity providers reach the MIC (its configured public URL)
    public_url: str = ""

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # the SDKs always send redirect_uri; never guess one

    def get_allowed_scope(self, scope: str | None) -> str:
        return "openid" if scope and "openid" in scope.split() else ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.service.redirect_uris  # exact match, RFC 6749 3.1.2.3

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret.encode(), self.environment.app_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        # a code after the upstream's login page, or after MIC's own (password check)
        return response_type == "code" and isinstance(self.connector, (RedirectLogin, PasswordLogin, SamlLogin))

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "authorization_code":
            return self.check_response_type("code")
        if grant_type == "password":
            # a second factor needs MIC's login page: no password grant around it
            return isinstance(self.connector, PasswordLogin) and self.service.mfa == "none"
        if grant_type == "refresh_token":
            return self.service.refresh
        return False

    def login_context(self, request_headers: Mapping[str, str], now: float,
                      first_use: Callable[[str, float], bool]) -> LoginContext:
        """This client's login at ``now``, asked for by a request with these headers (its secrets left out)."""
        env = self.environment
        return LoginContext(app_key=env.app_key, app_id=env.app_id, app_name=env.app_name, environment=env.name,
                            request_id=uuid.uuid4().hex, now=now, first_use=first_use, public_url=self.public_url,
                            request_headers={name: value for name, value in request_headers.items()
                                             if name.lower() not in SECRET_HEADERS})


class ClientDirectory:
    """Resolves a ``client_id`` to the environment and auth service it names.

    The configuration and its connectors are swapped together, at once, when the
    admin API changes a service; a request sees the old pair or the new one.
    """

    def __init__(self, config: MicConfig, connectors: dict[str, Any], public_url: str = "") -> None:
        self._state = (config, connectors)
        self.public_url = public_url

    @property
    def config(self) -> MicConfig:
        return self._state[0]

    def reconfigure(self, config: MicConfig, connectors: dict[str, Any]) -> None:
        self._state = (config, connectors)

    def __call__(self, client_id: str | None) -> MicClient | None:
        if not client_id:
            return None
        config, connectors = self._state
        app_key, _, service_id = client_id.partition(".")
        environment = config.environment(app_key)
        if environment is None:
            return None
        service = environment.service(service_id or None)
        if service is None:
            return None
        return MicClient(client_id, environment, service, connectors[service.key], self.public_url)
