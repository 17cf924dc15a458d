"""A vendor's upstream: their identity provider or custom auth service, put in place of a bundled mock.

A connector profile names the fleet members a vendor's server may stand in for
(``upstream:`` in the profile). ``--connector-url URL`` puts the vendor's server there:
the reference MIC is configured to use it, and the run takes only the services that
broker to it. What else the MIC and the scenarios need to know about the vendor's
server comes from a declaration file (``--connector FILE``), like
``harness/upstreams/example.yaml``:

- ``replaces``: which of the profile's members it stands in for (default: the first);
- ``services``: the services of the embedded target that the vendor's server backs, each
  with the provider block the MIC's console would hold for it (``remoteService`` and
  ``options``, checked by its connector type's schema) in place of the demo's, and
  optionally its own login recipe; the profile's other services are not run, and the
  certification lists them as not mapped (without ``services``, every service that
  brokers to the replaced member runs, on the demo's configuration);
- ``variables``: values for ``${NAME}`` in the MIC's demo configuration and the target
  (client ids and secrets, a handler name, an auth key, an IdP certificate);
- ``users``: the vendor's test users, by the names scenarios use (alice logs in, ...);
- ``login``: the login page recipe of the vendor's server, for every service;
- ``mic_port``: a fixed port for the reference MIC, whose redirect URI the vendor's
  server must know (``http://127.0.0.1:<port>/oauth2/redirect`` and the like).

``${NAME}`` anywhere comes from the environment, and ``${CONNECTOR_URL}`` is the vendor's
URL (``--connector-url``, else ``url:``); a value that is one variable alone is typed after
substitution (``mic_port: ${MIC_PORT}``). Every mistake is reported with file and line.

The vendor's server has no control surface: cells that would move its clock, arm its
faults or read its request log are skipped as not applicable to it. A surface that is not
the server's own stays: the gate before a custom auth service (``flexauth``) slows,
breaks and logs the vendor's service as it did the sample.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mic_reference import connectors
from plumbing import yamlfile

from .target import RECIPE_SCHEMA, USERS_SCHEMA, LoginRecipe, Target

EXAMPLE = Path(__file__).parent / "upstreams" / "example.yaml"
#: the reason a cell is skipped because the vendor's server cannot be controlled (certify
#: reports such cells as not applicable, not as refusals)
NOT_APPLICABLE = "not applicable to a vendor's upstream"
#: members whose control surface is served by a companion member (a directory's, beside it)
COMPANIONS = {"ldap": "ldap-control", "ad": "ad-control"}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "pattern": "^(https?|ldaps?)://",
                "description": "where the vendor's server answers (--connector-url overrides it)"},
        "replaces": {"type": "string", "description": "the profile's upstream member it stands in for"},
        "variables": {"type": "object", "additionalProperties": {"type": "string"},
                      "description": "MIC configuration and target variables, by name"},
        "users": USERS_SCHEMA,
        "login": RECIPE_SCHEMA,
        "services": {"type": "object", "minProperties": 1, "additionalProperties": {
            "type": "object", "additionalProperties": False, "required": ["provider"],
            "properties": {
                "provider": {"type": "object", "additionalProperties": False,
                             "description": "the MIC console's provider block for this service (its type "
                                            "stays the service's own)",
                             "properties": {"remoteService": {"type": "string"}, "options": {"type": "object"}}},
                "login": RECIPE_SCHEMA}},
            "description": "the embedded target's services this server backs; the profile's others are not run"},
        "mic_port": {"type": "integer", "minimum": 1, "maximum": 65535,
                     "description": "serve the reference MIC on this port, so its redirect URI can be "
                                    "registered at the vendor's server (default: any free port)"},
    },
}


class UpstreamError(ValueError):
    """A vendor upstream that cannot be used with this profile."""


@dataclass(frozen=True)
class VendorUpstream:
    member: str
    url: str
    variables: dict[str, str] = field(default_factory=dict, repr=False)
    users: dict[str, str] = field(default_factory=dict, repr=False)
    login: LoginRecipe | None = None
    mic_port: int | None = None
    #: by service id, the provider block (remoteService, options) the MIC uses for it instead of the demo's
    providers: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    #: by service id, a login recipe of its own
    logins: dict[str, LoginRecipe] = field(default_factory=dict)
    #: the declaration as read, so a service it names wrongly is reported at its line
    source: yamlfile.Document | None = field(default=None, repr=False, compare=False)

    @property
    def maps_services(self) -> bool:
        """Whether the declaration says which services the vendor's server backs."""
        return bool(self.providers)

    @property
    def external(self) -> dict[str, str]:
        """The fleet members not started, and their URLs: the replaced one is the vendor's
        server; a companion that served its control surface answers nowhere."""
        companion = COMPANIONS.get(self.member)
        return {self.member: self.url, **({companion: f"http://{companion}.replaced.invalid"} if companion else {})}

    def narrow(self, target: Target) -> Target:
        """The target as the vendor's server makes it: only the services that broker to it,
        no control surface served by it (one before it, the gate's, stays), the vendor's users
        and login page."""
        brokered = {sid: s for sid, s in target.services.items() if s.upstream == self.member}
        if not brokered:
            raise UpstreamError(f"no service of the target brokers to '{self.member}'")
        self._check_services(brokered)
        services = {sid: replace(s, login=self.logins.get(sid) or self.login or s.login, upstream_clock=False)
                    for sid, s in brokered.items() if not self.maps_services or sid in self.providers}
        replaced = self.external
        surfaces = {name: url for name, url in target.surfaces.items() if url not in replaced.values()}
        return replace(target, services=services, surfaces=surfaces,
                       clocks=tuple(c for c in target.clocks if c in surfaces),
                       users={**target.users, **self.users})


    def unmapped(self, target: Target) -> list[str]:
        """The services that broker to the replaced member but that the declaration does not map."""
        return sorted(sid for sid, s in target.services.items()
                      if s.upstream == self.member and self.maps_services and sid not in self.providers)

    def configure(self, document: dict[str, Any]) -> dict[str, Any]:
        """The MIC's configuration (as loaded) with the declared services' provider blocks in place."""
        def patched(service: dict[str, Any]) -> dict[str, Any]:
            declared = self.providers.get(service["id"])
            return service if declared is None else {**service, "provider": {"type": service["provider"]["type"],
                                                                             **declared}}

        def services(owner: dict[str, Any]) -> dict[str, Any]:
            return {**owner, "services": [patched(s) for s in owner.get("services", [])]}

        return {**document, "organizations": [
            {**services(org), "apps": [{**app, "environments": [services(env) for env in app["environments"]]}
                                       for app in org["apps"]]}
            for org in document["organizations"]]}

    def _check_services(self, brokered: dict[str, Any]) -> None:
        """Each declared service brokers to the replaced member, and its provider block is one its
        connector type accepts: mistakes are named at their line in the declaration."""
        schemas = connectors.provider_schemas()
        for sid in self.providers:
            at = ("services", sid)
            if sid not in brokered:
                raise self._error(at, f"'{sid}' is not a service that brokers to '{self.member}' "
                                      f"(those are: {', '.join(sorted(brokered))})")
            if self.source is not None:
                self.source.validate(schemas[brokered[sid].connector], at=at + ("provider",))

    def _error(self, at: tuple, message: str) -> Exception:
        return self.source.error(at, message, at_key=True) if self.source else UpstreamError(message)


def load(members: tuple[str, ...], url: str | None, path: str | None) -> VendorUpstream:
    """The vendor's upstream from ``--connector-url`` and ``--connector FILE`` (either may be
    missing, not both), for a profile whose replaceable members are ``members``."""
    if not members:
        raise UpstreamError("this profile has no upstream a vendor's server can replace (no 'upstream:' in it)")
    data: dict = {}
    document = None
    if path:
        document = _declaration(path, url)
        document.validate(SCHEMA)
        data = document.data
        if data.get("replaces", members[0]) not in members:
            raise document.error(("replaces",), f"'{data['replaces']}' is not an upstream of this profile "
                                                f"(it has: {', '.join(members)})")
    chosen = url or data.get("url")
    if not chosen:
        raise UpstreamError("say where the vendor's server is: --connector-url URL, or url: in the --connector file")
    login = data.get("login")
    services = data.get("services", {})
    return VendorUpstream(member=data.get("replaces", members[0]), url=chosen.rstrip("/"),
                          variables=dict(data.get("variables", {})),
                          users={name: user["password"] for name, user in data.get("users", {}).items()},
                          login=LoginRecipe(**login) if login else None, mic_port=data.get("mic_port"),
                          providers={sid: dict(s["provider"]) for sid, s in services.items()},
                          logins={sid: LoginRecipe(**s["login"]) for sid, s in services.items() if "login" in s},
                          source=document)


def _declaration(path: str, url: str | None) -> yamlfile.Document:
    """The declaration with ``${NAME}`` from the environment and ``${CONNECTOR_URL}`` the vendor's
    URL: the one given, else the file's own ``url:`` (read first for that)."""
    variables = dict(os.environ)
    if url is None:
        first = yamlfile.load(path, {**variables, "CONNECTOR_URL": ""})
        url = first.data.get("url") if isinstance(first.data, dict) else None
        if not isinstance(url, str) or not url:
            return first
    return yamlfile.load(path, {**variables, "CONNECTOR_URL": url.rstrip("/")})
