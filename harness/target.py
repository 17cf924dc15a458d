"""What the scenarios run against: a MIC, an app registered with it, its services and users.

A target is described in YAML. The embedded target (the reference MIC and the bundled
mocks) is one such file, filled in with the fleet's URLs; a vendor's MIC is another.
Scenarios name capabilities and test users, never URLs or secrets, so they run
unchanged on any target.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from plumbing import yamlfile

EMBEDDED = Path(__file__).parent / "targets" / "embedded.yaml"
#: a commented target file for a MIC that runs elsewhere
EXTERNAL_EXAMPLE = Path(__file__).parent / "targets" / "external-example.yaml"

CAPABILITIES = ["authorization-code", "password-grant", "refresh", "upstream-refresh", "browser-sso", "mfa",
                # a directory (LDAP, AD) checks the password; AD also says why it refused; its
                # attributes reach data links
                "directory", "account-status", "attribute-links",
                "data-links", "cross-app-sso", "id-token-validation", "openid-provider", "saml", "saml-tamper", "idp-mfa",
                # an OpenID provider checked directly through a public client of its (no secret, PKCE)
                "openid-public-client",
                # a custom auth service the harness may also speak the FlexAuth contract to (flexauth step)
                "flexauth",
                # an OAuth WRAP endpoint issues the service's SAML assertions for a password (the mock
                # SAML IdP's, its users and its faults); its tokens can be spoilt (/_control/tamper)
                "saml-wrap", "wrap-tamper",
                # Facebook Login (Graph API): a permissions screen the user may decline or cancel,
                # Graph's error objects, no upstream refresh (the revoke_upstream step works its IdP)
                "facebook"]
_URL = {"type": "string", "pattern": "^https?://"}
TTL_KINDS = ("grant", "token", "refresh")
_TTLS = {"type": "object", "additionalProperties": False, "description": "seconds each grant lives (for clock: past)",
         "properties": {kind: {"type": "integer", "minimum": 1} for kind in TTL_KINDS}}
#: test users by the names scenarios use, with their passwords
USERS_SCHEMA = {"type": "object", "additionalProperties": {
    "type": "object", "additionalProperties": False, "required": ["password"],
    "properties": {"password": {"type": "string"}}}}
#: how to fill a login page (a LoginRecipe)
RECIPE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["username", "password", "submit"],
    "properties": {"form": {"type": "string", "minLength": 1,
                            "description": "a CSS selector for the login form, where a page has several "
                                           "(default: the form that holds the username and password fields; "
                                           "harness/drivers/pages.py says which selectors the HTTP driver reads)"},
                   "username": {"type": "string"}, "password": {"type": "string"},
                   "submit": {"type": "string"},
                   "totp_code": {"type": "string", "description": "the field of a second-step TOTP code"},
                   "totp_secret_id": {"type": "string",
                                      "description": "the element showing the secret at enrolment"},
                   "permissions": {
                       "type": "object", "additionalProperties": False, "required": ["allow", "cancel", "checkbox"],
                       "description": "a permissions screen after the login (what the app may read), "
                                      "which the login step's decline and cancel work",
                       "properties": {"allow": {"type": "string", "description": "the id of its accepting button"},
                                      "cancel": {"type": "string", "description": "the id of its cancel button"},
                                      "checkbox": {"type": "string", "pattern": "\\{permission\\}",
                                                   "description": "the name of a permission's checkbox, "
                                                                  "{permission} standing for it"}}}}}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["mic", "app", "services"],
    "properties": {
        "mic": _URL,
        "baas": {**_URL, "description": "the Kinvey backend the SDKs log in to (default: the MIC's origin)"},
        "app": {"type": "object", "additionalProperties": False, "required": ["key", "secret", "redirect_uri"],
                "properties": {"key": {"type": "string"}, "secret": {"type": "string"}, "redirect_uri": _URL}},
        "peers": {"type": "object", "description": "other apps, by the part they play (sso-peer, outsider)",
                  "additionalProperties": {"type": "object", "additionalProperties": False,
                                           "required": ["key", "secret"],
                                           "properties": {"key": {"type": "string"}, "secret": {"type": "string"}}}},
        "control": {"type": "object", "additionalProperties": False, "required": ["surfaces"],
                    "properties": {"surfaces": {"type": "object", "additionalProperties": _URL},
                                   "clocks": {"type": "array", "items": {"type": "string"}},
                                   "supervisor": {**_URL, "description": "restarts servers: "
                                                  "POST <supervisor>/_control/restart/<server>"}}},
        "users": USERS_SCHEMA,
        "ttl": {**_TTLS, "description": "the services' TTLs, unless a service says otherwise"},
        "services": {"type": "object", "minProperties": 1, "additionalProperties": {
            "type": "object", "additionalProperties": False, "required": ["connector", "capabilities"],
            "properties": {
                "connector": {"type": "string"},
                "capabilities": {"type": "array", "items": {"enum": CAPABILITIES}},
                "login": {"type": "string"},
                "upstream": {"type": "string", "description": "the control surface of its identity provider"},
                "clocked_upstream": {"type": "boolean",
                                     "description": "the MIC checks what its identity provider issues (id_tokens, "
                                                    "assertions) against its own clock, so a move of the MIC's "
                                                    "clock that the provider's does not share spoils later logins"},
                "ttl": _TTLS,
                "provider": {"type": "object", "additionalProperties": False, "required": ["issuer", "client_id"],
                             "description": "an OpenID provider checked directly (the openid-provider "
                                            "scenarios), with a client registered for app.redirect_uri",
                             "properties": {"issuer": _URL, "client_id": {"type": "string"},
                                            "client_secret": {"type": "string"},
                                            "scope": {"type": "string", "description": "what the test users "
                                                      "may be asked for beyond openid (default: profile email "
                                                      "offline_access)"}}},
                "flexauth": {"type": "object", "additionalProperties": False,
                             "required": ["url", "handler", "auth_key"],
                             "description": "a custom auth service checked directly over the FlexAuth "
                                            "contract (the flexauth step): its base URL, handler, shared key",
                             "properties": {"url": _URL, "handler": {"type": "string", "minLength": 1},
                                            "auth_key": {"type": "string", "minLength": 1}}},
            }}},
        "recipes": {"type": "object", "additionalProperties": RECIPE_SCHEMA},
    },
}


@dataclass(frozen=True)
class LoginRecipe:
    """How to fill a login page: the form's field names, its submit button, and where a
    TOTP second step asks for its code (and shows the secret when enrolling)."""

    username: str
    password: str
    submit: str
    totp_code: str | None = None
    totp_secret_id: str | None = None
    #: the login form's CSS selector, where a page has several (default: the one with the fields)
    form: str | None = None
    #: a permissions screen after the login: ids of its buttons (allow, cancel) and the
    #: name of a permission's checkbox (checkbox, with ``{permission}``)
    permissions: dict[str, str] | None = None


@dataclass(frozen=True)
class OpenIDProvider:
    """An OpenID provider the harness speaks to itself, and the client it uses there."""

    issuer: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    scope: str = "profile email offline_access"


@dataclass(frozen=True)
class FlexAuthService:
    """A custom auth service the harness speaks the FlexAuth contract to itself."""

    url: str
    handler: str
    auth_key: str = field(repr=False)


@dataclass(frozen=True)
class Service:
    id: str
    connector: str
    capabilities: frozenset[str]
    login: LoginRecipe | None = None
    upstream: str | None = None
    #: seconds a code (grant), an access token and a refresh token live
    ttl: dict[str, int] = field(default_factory=dict)
    provider: OpenIDProvider | None = None
    flexauth: FlexAuthService | None = None
    #: the MIC checks the upstream's artifacts against its own clock (id_tokens, assertions)
    clocked_upstream: bool = False
    #: the target's clocks move the upstream's too (false for a vendor's server behind the MIC)
    upstream_clock: bool = True

    def client_id(self, app_key: str) -> str:
        return f"{app_key}.{self.id}"


@dataclass(frozen=True)
class Target:
    mic: str
    baas: str
    app_key: str
    app_secret: str = field(repr=False)
    redirect_uri: str = ""
    services: dict[str, Service] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict, repr=False)
    #: other apps (key, secret) by the part they play in scenarios
    peers: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    #: control surfaces by server name (test mode only), and those that own a clock
    surfaces: dict[str, str] = field(default_factory=dict)
    clocks: tuple[str, ...] = ()
    #: what restarts the target's servers on request, if anything does
    supervisor: str | None = None

    def app_credentials(self, peer: str | None) -> tuple[str, str]:
        """The key and secret of the target's app, or of one of its peers."""
        if peer is None:
            return self.app_key, self.app_secret
        if peer not in self.peers:
            raise KeyError(f"the target has no peer app '{peer}' (it has: {', '.join(self.peers) or 'none'})")
        return self.peers[peer]

    def password_of(self, user: str) -> str:
        if user not in self.users:
            raise KeyError(f"the target has no test user '{user}' (it has: {', '.join(self.users) or 'none'})")
        return self.users[user]


def load(path: str | Path = EMBEDDED, variables: dict[str, str] | None = None) -> Target:
    document = yamlfile.load(path, variables or {})
    document.validate(SCHEMA)
    data = document.data
    recipes = {name: LoginRecipe(**r) for name, r in data.get("recipes", {}).items()}
    services = {}
    for name, raw in data["services"].items():
        login = raw.get("login")
        if login is not None and login not in recipes:
            raise document.error(("services", name, "login"),
                                 f"no login recipe '{login}' (recipes: {', '.join(recipes) or 'none'})")
        services[name] = Service(name, raw["connector"], frozenset(raw["capabilities"]),
                                 recipes[login] if login else None, raw.get("upstream"),
                                 {**data.get("ttl", {}), **raw.get("ttl", {})},
                                 OpenIDProvider(**raw["provider"]) if "provider" in raw else None,
                                 FlexAuthService(**raw["flexauth"]) if "flexauth" in raw else None,
                                 raw.get("clocked_upstream", False))
    control = data.get("control", {"surfaces": {}})
    surfaces = {name: url.rstrip("/") for name, url in control["surfaces"].items()}
    clocks = control.get("clocks", [])
    for index, name in enumerate(clocks):
        if name not in surfaces:
            raise document.error(("control", "clocks", index), f"'{name}' is not one of the control surfaces")
    return Target(mic=data["mic"].rstrip("/"), baas=data.get("baas", data["mic"]).rstrip("/"), app_key=data["app"]["key"], app_secret=data["app"]["secret"],
                  redirect_uri=data["app"]["redirect_uri"], services=services,
                  users={u: v["password"] for u, v in data.get("users", {}).items()},
                  peers={role: (p["key"], p["secret"]) for role, p in data.get("peers", {}).items()},
                  surfaces=surfaces, clocks=tuple(clocks),
                  supervisor=control["supervisor"].rstrip("/") if "supervisor" in control else None)


def narrowed(target: Target, *, mic: str | None = None, app_key: str | None = None,
             app_secret: str | None = None, service: str | None = None) -> Target:
    """The target with command-line overrides: another MIC URL or app, or one service only."""
    changes: dict = {}
    if mic:
        changes["mic"] = mic.rstrip("/")
        if target.baas == target.mic:
            changes["baas"] = changes["mic"]
    if app_key:
        changes["app_key"] = app_key
    if app_secret:
        changes["app_secret"] = app_secret
    if service:
        if service not in target.services:
            raise KeyError(f"the target has no service '{service}' (it has: {', '.join(target.services)})")
        changes["services"] = {service: target.services[service]}
    return replace(target, **changes)
