"""A vendor's upstream: their identity provider or custom auth service, put in place of a bundled mock.

A connector profile names the fleet members a vendor's server may stand in for
(``upstream:`` in the profile). ``--connector-url URL`` puts the vendor's server there:
the reference MIC is configured to use it, and the run takes only the services that
broker to it. What else the MIC and the scenarios need to know about the vendor's
server comes from a declaration file (``--connector FILE``), like
``harness/upstreams/example.yaml``:

- ``replaces``: which of the profile's members it stands in for (default: the first);
- ``variables``: values for the MIC configuration and the target (client ids and
  secrets, a handler name, an auth key, an IdP certificate), by the names they use;
- ``users``: the vendor's test users, by the names scenarios use (alice logs in, ...);
- ``login``: the login page recipe of the vendor's server, for browser cells;
- ``mic_port``: a fixed port for the reference MIC, whose redirect URI the vendor's
  server must know (``http://127.0.0.1:<port>/oauth2/redirect`` and the like).

The vendor's server has no control surface: cells that would move its clock, arm its
faults or read its request log are skipped as not applicable to it. A surface that is not
the server's own stays: the gate before a custom auth service (``flexauth``) slows,
breaks and logs the vendor's service as it did the sample.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

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
        services = {sid: replace(s, login=self.login or s.login)
                    for sid, s in target.services.items() if s.upstream == self.member}
        if not services:
            raise UpstreamError(f"no service of the target brokers to '{self.member}'")
        replaced = self.external
        surfaces = {name: url for name, url in target.surfaces.items() if url not in replaced.values()}
        return replace(target, services=services, surfaces=surfaces,
                       clocks=tuple(c for c in target.clocks if c in surfaces),
                       users={**target.users, **self.users})


def load(members: tuple[str, ...], url: str | None, path: str | None) -> VendorUpstream:
    """The vendor's upstream from ``--connector-url`` and ``--connector FILE`` (either may be
    missing, not both), for a profile whose replaceable members are ``members``."""
    if not members:
        raise UpstreamError("this profile has no upstream a vendor's server can replace (no 'upstream:' in it)")
    data: dict = {}
    if path:
        document = yamlfile.load(path, dict(os.environ))
        document.validate(SCHEMA)
        data = document.data
        if data.get("replaces", members[0]) not in members:
            raise document.error(("replaces",), f"'{data['replaces']}' is not an upstream of this profile "
                                                f"(it has: {', '.join(members)})")
    chosen = url or data.get("url")
    if not chosen:
        raise UpstreamError("say where the vendor's server is: --connector-url URL, or url: in the --connector file")
    login = data.get("login")
    return VendorUpstream(member=data.get("replaces", members[0]), url=chosen.rstrip("/"),
                          variables=dict(data.get("variables", {})),
                          users={name: user["password"] for name, user in data.get("users", {}).items()},
                          login=LoginRecipe(**login) if login else None, mic_port=data.get("mic_port"))
