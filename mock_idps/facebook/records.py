"""What the mock Facebook keeps beyond the shared records: each person's decisions on each
app's permissions (granted or declined, remembered as Facebook does: a declined one is
not asked again), its codes (single use, on the clock), and its tokens' validity.

A person who removes an app (``deauthorized``) or changes their password invalidates
their tokens, which Graph then refuses with error 190 and the subcode saying why.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from mock_idps.shared.records import Client, Login, Store, Token
from plumbing.clock import isoformat

from . import graph

#: granted to every login: what an app may always read
PUBLIC_PROFILE = "public_profile"
#: why a person's tokens stop working, as Graph's error_subcode says
REVOCATIONS = {"deauthorized": graph.NOT_AUTHORIZED, "password_changed": graph.PASSWORD_CHANGED}


@dataclass
class IssuedCode:
    code: str
    client_id: str
    redirect_uri: str
    login: Login
    permissions: tuple[str, ...]
    expires_at: float
    used: bool = False


class FacebookStore(Store):
    def __init__(self, fixture, clock) -> None:
        super().__init__(fixture, clock)
        self._lock = threading.Lock()
        self._decisions: dict[tuple[str, str], dict[str, str]] = {}  # (username, app id) -> permission -> status
        self._issued: dict[str, IssuedCode] = {}
        self._invalid: dict[str, int] = {}  # access token -> error_subcode
        self._form_key = secrets.token_bytes(32)

    # -- permissions ---------------------------------------------------------------

    def undecided(self, login: Login, client: Client, asked: list[str], rerequest: bool) -> list[str]:
        """The asked permissions the person has yet to decide on (declined ones again with rerequest)."""
        with self._lock:
            decided = self._decisions.get((login.user.username, client.get_client_id()), {})
        return [p for p in asked if p != PUBLIC_PROFILE
                and (p not in decided or (rerequest and decided[p] == "declined"))]

    def decide(self, login: Login, client: Client, granted: list[str], declined: list[str]) -> None:
        with self._lock:
            decided = self._decisions.setdefault((login.user.username, client.get_client_id()), {})
            decided |= {PUBLIC_PROFILE: "granted"} | {p: "granted" for p in granted} | {p: "declined" for p in declined}

    def decisions(self, username: str, app_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._decisions.get((username, app_id), {}))

    def granted(self, login: Login, client: Client, asked: list[str]) -> tuple[str, ...]:
        decided = self.decisions(login.user.username, client.get_client_id())
        return tuple(p for p in asked if p == PUBLIC_PROFILE or decided.get(p) == "granted")

    def forget_decisions(self) -> int:
        """Every person as if they never used an app (the control surface's reset)."""
        with self._lock:
            count = len(self._decisions)
            self._decisions.clear()
        return count

    def form_token(self, login: Login, client: Client) -> str:
        """What the permissions form carries back, so only this person's own page can decide (CSRF)."""
        message = f"{login.user.username}\n{client.get_client_id()}".encode()
        return hmac.new(self._form_key, message, hashlib.sha256).hexdigest()

    # -- codes -----------------------------------------------------------------------

    def issue_code(self, client: Client, redirect_uri: str, login: Login, permissions: tuple[str, ...]) -> str:
        code = secrets.token_urlsafe(48)
        with self._lock:
            self._issued[code] = IssuedCode(code, client.get_client_id(), redirect_uri, login, permissions,
                                           self.clock.now() + self.fixture.code_ttl)
        return code

    def redeem_code(self, code: str, client: Client, redirect_uri: str) -> IssuedCode:
        """The code, used up; or Graph's error for one that is unknown, another app's, used or expired."""
        with self._lock:
            found = self._issued.get(code)
            if found is None or found.client_id != client.get_client_id():
                raise graph.bad_parameter("Invalid verification code format.")
            if found.redirect_uri != redirect_uri:
                raise graph.bad_parameter("Error validating verification code. Please make sure your redirect_uri "
                                          "is identical to the one you used in the OAuth dialog request",
                                          graph.REDIRECT_MISMATCH)
            if found.used:
                raise graph.bad_parameter("This authorization code has been used.", graph.CODE_USED)
            if self.clock.now() >= found.expires_at:
                raise graph.bad_parameter("This authorization code has expired.", graph.CODE_EXPIRED)
            found.used = True
        return found

    # -- tokens ----------------------------------------------------------------------

    def issue_token(self, client: Client, login: Login, permissions: tuple[str, ...], lifetime: int) -> Token:
        return self.add_token({"access_token": "EAA" + secrets.token_urlsafe(48), "expires_in": lifetime,
                               "scope": " ".join(permissions)}, client, login)

    def check_token(self, value: str) -> Token:
        """A user token that is good now, or Graph's error 190 saying why not."""
        token = self.find_access_token(value)
        if token is None or token.login is None:
            raise graph.invalid_token()
        with self._lock:
            subcode = self._invalid.get(value)
        if subcode == graph.NOT_AUTHORIZED:
            raise graph.invalid_token(f"Error validating access token: The user has not authorized application "
                                      f"{token.client_id}.", subcode)
        if subcode == graph.PASSWORD_CHANGED:
            raise graph.invalid_token("Error validating access token: The session has been invalidated because "
                                      "the user changed their password or Facebook has changed the session for "
                                      "security reasons.", subcode)
        if token.is_expired():
            raise graph.invalid_token(f"Error validating access token: Session has expired on "
                                      f"{isoformat(token.issued_at + token.expires_in)}. The current time is "
                                      f"{isoformat(self.clock.now())}.", graph.EXPIRED)
        return token

    def revoke_user(self, username: str, reason: str, app_id: str | None = None) -> int:
        """Invalidate a person's tokens (for one app, or all); removing an app forgets its permissions."""
        subcode = REVOCATIONS[reason]
        with self._lock:
            tokens = [t for t in self._access.values() if t.login is not None and t.login.user.username == username
                      and (app_id is None or t.client_id == app_id)]
            for token in tokens:
                self._invalid.setdefault(token.access_token, subcode)
            if reason == "deauthorized":
                for key in [k for k in self._decisions if k[0] == username and app_id in (None, k[1])]:
                    del self._decisions[key]
        return len(tokens)
