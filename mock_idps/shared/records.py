"""A provider's records, in memory, with every expiry read from the injected clock.

Clients and users come from the fixture; logins (the IdP's own sessions), codes and
tokens are issued since start. A record of who is logged in is a ``Login``: the user,
and when and how they authenticated (OpenID Connect's ``auth_time`` and ``amr``).
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, scope_to_list

from plumbing.clock import Clock
from plumbing.grants import ClockedCode, ClockedToken

from .fixture import ClientSpec, Fixture, UserSpec
from .sessions import IdpSessions

CONFIDENTIAL_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass
class Client(ClientMixin):
    spec: ClientSpec

    def get_client_id(self) -> str:
        return self.spec.client_id

    def get_default_redirect_uri(self) -> str | None:
        # RFC 6749 3.1.2.3: with several registered URIs the request must name one.
        return self.spec.redirect_uris[0] if len(self.spec.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.spec.scope))
        return " ".join(s for s in scope_to_list(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.spec.redirect_uris  # exact match, RFC 6749 3.1.2.3

    def check_client_secret(self, client_secret: str) -> bool:
        return self.spec.client_secret is not None and secrets.compare_digest(
            client_secret.encode(), self.spec.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.spec.client_secret is None:
            return method == "none"
        return method in CONFIDENTIAL_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.spec.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.spec.grant_types


@dataclass(frozen=True)
class Login:
    """Who logged in, when, and by which methods (RFC 8176 ``amr`` values)."""

    user: UserSpec
    auth_time: float
    amr: tuple[str, ...] = ("pwd",)


@dataclass(kw_only=True)
class AuthorizationCode(ClockedCode):
    login: Login
    nonce: str | None = None

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.login.auth_time)

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return list(self.login.amr)


@dataclass(kw_only=True)
class Token(ClockedToken):
    login: Login | None  # None for a client's own token (client credentials)
    client: Client = field(repr=False)

    def get_user(self) -> Login | None:
        return self.login

    def get_client(self) -> Any:
        return self.client


class Store:
    """Clients and users from the fixture; sessions, codes and tokens issued since start."""

    def __init__(self, fixture: Fixture, clock: Clock, client_type: type[Client] = Client) -> None:
        self.fixture = fixture
        self.clock = clock
        self.clients = {c.client_id: client_type(c) for c in fixture.clients}
        self.users = {u.username: u for u in fixture.users}
        self._lock = threading.Lock()
        self._codes: dict[str, AuthorizationCode] = {}
        self._access: dict[str, Token] = {}
        self._refresh: dict[str, Token] = {}
        self._logged_in: IdpSessions[Login] = IdpSessions(clock, fixture.session_ttl)

    def login(self, user: UserSpec, amr: tuple[str, ...] = ("pwd",)) -> Login:
        return Login(user, self.clock.now(), amr)

    def open_session(self, login: Login) -> str:
        """The IdP's own login session, for its cookie."""
        return self._logged_in.open(login)

    def session_login(self, session_id: str) -> Login | None:
        return self._logged_in.find(session_id)

    def end_session(self, session_id: str) -> None:
        self._logged_in.end(session_id)

    def authenticate(self, username: str, password: str) -> UserSpec | None:
        user = self.users.get(username)
        if user is None or not secrets.compare_digest(password.encode(), user.password.encode()):
            return None
        return user

    def add_code(self, code: AuthorizationCode) -> None:
        with self._lock:
            self._codes[code.code] = code

    def find_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        with self._lock:
            found = self._codes.get(code)
        if found is None or found.client_id != client_id or self.clock.now() >= found.expires_at:
            return None
        return found

    def remove_code(self, code: AuthorizationCode) -> None:
        with self._lock:
            self._codes.pop(code.code, None)

    def add_token(self, token_data: dict[str, Any], client: Client, login: Login | None) -> Token:
        now = self.clock.now()
        refresh = token_data.get("refresh_token")
        token = Token(access_token=token_data["access_token"], refresh_token=refresh,
                      client_id=client.get_client_id(), scope=token_data.get("scope", ""), login=login,
                      issued_at=now, expires_in=int(token_data["expires_in"]),
                      refresh_expires_at=now + self.fixture.refresh_ttl if refresh else None, clock=self.clock,
                      client=client)
        with self._lock:
            self._access[token.access_token] = token
            if refresh:
                self._refresh[refresh] = token
        return token

    def find_access_token(self, value: str) -> Token | None:
        with self._lock:
            return self._access.get(value)

    def find_refresh_token(self, value: str) -> Token | None:
        with self._lock:
            token = self._refresh.get(value)
        if token is None or token.revoked or token.is_refresh_expired():
            return None
        return token

    def revoke(self, token: Token) -> None:
        with self._lock:
            token.revoked = True
            if token.refresh_token:
                self._refresh.pop(token.refresh_token, None)
