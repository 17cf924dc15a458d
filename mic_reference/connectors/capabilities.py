"""The small interfaces a connector may honour (after Dex's connector interfaces)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Identity:
    """Who the upstream says the user is, and the tokens it issued for them."""

    user_id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    upstream_token: Mapping[str, Any] = field(default_factory=dict, repr=False)


class ConnectorError(Exception):
    """An upstream refusal or failure, as the RFC 6749 error the app should see."""

    def __init__(self, error: str, description: str, *, debug: str = "") -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.debug = debug


#: the longest username or password the MIC sends upstream (characters); longer ones are no user's,
#: and real directories drop the connection of a bind that large
MAX_CREDENTIAL = 1024


def credentials_fit(username: str, password: str) -> bool:
    """Whether a username and password are worth sending upstream: both given, neither oversized."""
    return bool(username) and bool(password) and len(username) <= MAX_CREDENTIAL and len(password) <= MAX_CREDENTIAL


@dataclass(frozen=True)
class LoginContext:
    """Whose login the MIC is serving: the app's environment and the request that asked, and
    when (the MIC's clock) with the MIC's memory of one-time values.

    Most upstreams need none of it; a custom auth service (FlexAuth) is told it in headers;
    a connector that checks what the upstream signed (SAML-WRAP) checks it at ``now``.
    """

    app_key: str
    app_id: str
    app_name: str
    environment: str
    #: the MIC's own id for this request, for matching the two sides' logs
    request_id: str
    #: the MIC's clock at this login
    now: float
    #: ``first_use(key, until)``: False when ``key`` was seen before (the vault keeps it until then)
    first_use: Callable[[str, float], bool]
    #: what the client sent, secrets (Authorization, cookies) left out
    request_headers: Mapping[str, str] = field(default_factory=dict)
    #: where apps reach the MIC (its configured public URL, never the request's Host): its backend too
    public_url: str = ""


_serving: ContextVar[LoginContext | None] = ContextVar("mic_login_context", default=None)


@contextmanager
def serving(context: LoginContext) -> Iterator[None]:
    """Make ``context`` the login under way while a connector is called (the core does this)."""
    token = _serving.set(context)
    try:
        yield
    finally:
        _serving.reset(token)


def current_login() -> LoginContext | None:
    """The login the core is serving, for connectors whose upstream wants to know it."""
    return _serving.get()


class RedirectLogin(ABC):
    """Sends the browser to the upstream login and takes the upstream's callback."""

    #: the MIC path the upstream redirects back to (registered with the upstream)
    callback_path: str

    @abstractmethod
    def login_url(self, callback_url: str, state: str) -> str:
        """Where to send the browser; the upstream must come back with ``state``."""

    @abstractmethod
    def complete(self, params: Mapping[str, str], callback_url: str, now: float) -> Identity:
        """Turn the callback's parameters into an identity (what it carries checked at ``now``),
        or raise ConnectorError."""


class PasswordLogin(ABC):
    """Checks a username and password the MIC received itself (password grant)."""

    @abstractmethod
    def password_login(self, username: str, password: str) -> Identity:
        """The identity behind these credentials, or raise ConnectorError."""


class UpstreamRefresh(ABC):
    """Renews the upstream's tokens when they expire (the upstream's own refresh)."""

    @abstractmethod
    def refresh(self, identity: Identity, now: float) -> Identity:
        """The same identity with new upstream tokens (checked at ``now``), or raise ConnectorError."""


@dataclass(frozen=True)
class SamlRequest:
    """How the browser carries an AuthnRequest to the IdP: redirected to ``url``, or
    (``fields`` given) by a form the browser posts there (HTTP-POST binding)."""

    url: str
    fields: Mapping[str, str] = field(default_factory=dict)


class SamlLogin(ABC):
    """SP-initiated SAML 2.0 Web SSO: an AuthnRequest to the IdP, and the Response the IdP
    has the browser post back to the MIC's assertion consumer (with ``RelayState``)."""

    @abstractmethod
    def authn_request(self, sp_entity_id: str, acs_url: str, relay_state: str, now: float) -> SamlRequest:
        """The request for a login the MIC will know again by ``relay_state``."""

    @abstractmethod
    def complete_post(self, form: Mapping[str, str], sp_entity_id: str, acs_url: str, relay_state: str,
                      now: float, first_use: Callable[[str, float], bool]) -> Identity:
        """The identity in the posted Response (checked at ``now``), or raise ConnectorError.

        ``first_use(key, until)`` is the MIC's memory of one-time values (its vault): False
        when the key was seen before, so an assertion is accepted once, whatever restarts.
        """
