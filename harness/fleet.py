"""The embedded fleet: the reference MIC, the bundled mocks and the demo app, wired together.

All of them share one virtual clock, so moving time through any control surface
moves it for every server.
"""
from __future__ import annotations

import json
import secrets
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import mic_reference
from mic_reference import config as mic_config
from mic_reference.vault import Keyring
from mock_idps import facebook as facebook_idp
from mock_idps import ldap as directories
from mock_idps import oauth2 as oauth2_idp
from mock_idps import oidc as oidc_idp
from mock_idps import saml as saml_idp
from plumbing import yamlfile
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet
from plumbing.tls import LocalTLS
from plumbing.xmldsig import generate_identity

from samples import flexauth_service
from samples.flexauth_service.users import UserStore

from . import demo_app, gate, supervisor, target as targets
from .upstream import VendorUpstream


@dataclass
class EmbeddedFleet:
    """A started fleet, the target it presents, and the clock its servers share.

    The MIC's vault is a SQLite file in a directory of the fleet's own, sealed with
    keys the fleet keeps, so a MIC restarted on them finds everything it had issued.
    """

    clock: VirtualClock = field(default_factory=VirtualClock)
    #: serve everything over HTTPS, with a throwaway local CA
    tls: LocalTLS | None = None
    fleet: Fleet | None = None
    target: targets.Target | None = None
    vault_keys: str = field(default_factory=lambda: Keyring.generate().spec(), repr=False)
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    #: the MIC's vault (default: a SQLite file in a directory of the fleet's own)
    vault_url: str | None = None
    #: a vendor's server standing in for one of the mocks (that mock is not started)
    upstream: VendorUpstream | None = None
    _workdir: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    @property
    def database_url(self) -> str:
        return self.vault_url or f"sqlite:///{Path(self._workdir.name) / 'mic-vault.sqlite3'}"

    def start(self) -> "EmbeddedFleet":
        clock = self.clock
        vendor = self.upstream
        self.fleet = Fleet(tls=self.tls, external=vendor.external if vendor else {},
                           ports={"mic": vendor.mic_port} if vendor and vendor.mic_port else {})
        self._workdir = tempfile.TemporaryDirectory(prefix="mic-fleet-")
        # the directories (LDAP with StartTLS, Active Directory over LDAPS), each with its control
        # surface beside it; the MIC's configuration trusts their certificate's CA (DIRECTORY_CA)
        directory_tls = LocalTLS()
        for name, flavour, secure in (("ldap", "ldap", False), ("ad", "active-directory", True)):
            directory = directories.create_directory(flavour, clock=clock, test_mode=True, tls=directory_tls)
            serve = directory.ldaps_factory if secure else directory.server_factory
            self.fleet.add_twisted(name, lambda urls, serve=serve: serve(), scheme="ldaps" if secure else "ldap")
            self.fleet.add(f"{name}-control", lambda urls, directory=directory: directory.control_app())
        # the SAML IdP's signing key, made now: the MIC's configuration names its certificate
        saml_signer = generate_identity(self._workdir.name, "saml-idp", "mock SAML IdP")
        def mic(urls: dict[str, str]):
            variables = _variables(urls) | {"SAML_IDP_CERT": saml_signer.cert_base64,
                                            "DIRECTORY_CA": directory_tls.ca_pem().decode()} | self._vendor_variables
            return mic_reference.create_app(
                self._mic_configuration(variables), clock=clock, test_mode=True, variables=variables,
                database_url=self.database_url, vault_keys=self.vault_keys, admin_token=self.admin_token,
                upstream_trust=self.tls.client_context() if self.tls else None, public_url=urls["mic"])
        self.fleet.add("mic", mic)
        self.fleet.add("oauth2-idp", lambda urls: oauth2_idp.create_app(
            clock=clock, test_mode=True, variables={"MIC": urls["mic"]}))
        self.fleet.add("saml-idp", lambda urls: saml_idp.create_app(
            clock=clock, test_mode=True, variables={"MIC": urls["mic"]}, signer=saml_signer))
        self.fleet.add("oidc-idp", lambda urls: oidc_idp.create_app(
            clock=clock, test_mode=True, variables={"MIC": urls["mic"], "APP": urls["app"]}))
        self.fleet.add("facebook-idp", lambda urls: facebook_idp.create_app(
            clock=clock, test_mode=True, variables={"MIC": urls["mic"]}))
        self.fleet.add("app", lambda urls: demo_app.create_app(urls["mic"]))
        self.fleet.add("supervisor", lambda urls: supervisor.create_app(self.fleet, frozenset({"mic"})))
        # the sample custom auth service (FlexAuth) on a fresh database, and the gate before it that
        # gives it (or a vendor's service put in its place) faults and a request log
        self.fleet.add("flexauth", lambda urls: _flexauth_sample(Path(self._workdir.name) / "flexauth-users.sqlite3"))
        self.fleet.add("flexauth-gate", lambda urls: gate.create_app(
            urls["flexauth"], clock, trust=self.tls.client_context() if self.tls else None))
        urls = self.fleet.start()
        self.target = _target(urls, self.upstream)
        return self

    def _mic_configuration(self, variables: dict[str, str]) -> Path:
        """The demo configuration, or, when a vendor's declaration maps services, the demo with
        the declared provider blocks in place (a file of the fleet's own, read at every restart)."""
        if not (self.upstream and self.upstream.maps_services):
            return mic_config.DEMO
        path = Path(self._workdir.name) / "mic-configuration.json"
        if not path.exists():
            demo = yamlfile.load(mic_config.DEMO, variables).data
            path.write_text(json.dumps(self.upstream.configure(demo), indent=2), encoding="utf-8")
        return path

    @property
    def _vendor_variables(self) -> dict[str, str]:
        return self.upstream.variables if self.upstream else {}

    def stop(self) -> None:
        if self.fleet is not None:
            self.fleet.stop()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    @property
    def urls(self) -> dict[str, str]:
        return dict(self.fleet.urls) if self.fleet else {}

    def __enter__(self) -> "EmbeddedFleet":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _variables(urls: dict[str, str]) -> dict[str, str]:
    """The fleet's URLs under the names the MIC configuration and the target file use."""
    return _directory_variables(urls) | _flexauth_variables(urls) | {"MIC": urls["mic"], "OAUTH2_IDP": urls["oauth2-idp"], "APP": urls["app"], "SUPERVISOR": urls["supervisor"],
            "OIDC_IDP": urls["oidc-idp"],
            "SAML_IDP": urls["saml-idp"], "FACEBOOK_IDP": urls["facebook-idp"]}


_DIRECTORY_MEMBERS = ("ldap", "ad", "ldap-control", "ad-control")
_FLEXAUTH_MEMBERS = ("flexauth", "flexauth-gate")
#: the handler and shared key of the sample custom auth service (a vendor's declaration gives its own)
FLEXAUTH_SETTINGS = {"FLEXAUTH_HANDLER": "login", "FLEXAUTH_AUTH_KEY": "embedded-flexauth-key"}


def _flexauth_variables(urls: dict[str, str]) -> dict[str, str]:
    """The custom auth service (the MIC calls it through the gate) and how the MIC is known to it."""
    return {"FLEXAUTH": urls["flexauth"], "FLEXAUTH_GATE": urls["flexauth-gate"], **FLEXAUTH_SETTINGS}


def _flexauth_sample(database: Path):
    """The sample service on a fresh copy of its demo users' database."""
    database.write_bytes(_flexauth_demo_database())
    return flexauth_service.create_app(str(database), FLEXAUTH_SETTINGS["FLEXAUTH_AUTH_KEY"],
                                       FLEXAUTH_SETTINGS["FLEXAUTH_HANDLER"])


@lru_cache(maxsize=1)
def _flexauth_demo_database() -> bytes:
    """The demo users' database, hashed once per process: scrypt is slow on purpose (~50 ms a user)."""
    with tempfile.TemporaryDirectory(prefix="flexauth-") as directory:
        path = Path(directory) / "users.sqlite3"
        UserStore(str(path)).add_demo_users()
        return path.read_bytes()


def _directory_variables(urls: dict[str, str]) -> dict[str, str]:
    """Where the directories listen (ldap://, ldaps://) and their control surfaces answer."""
    return {"LDAP": urls["ldap"], "AD": urls["ad"], "LDAP_CONTROL": urls["ldap-control"],
            "AD_CONTROL": urls["ad-control"]}


def planned_target(upstream: VendorUpstream | None = None) -> targets.Target:
    """The embedded target before the fleet has ports: enough to expand the scenario matrix."""
    urls = {name: f"http://{name}.not-started.invalid"
            for name in (*_DIRECTORY_MEMBERS, *_FLEXAUTH_MEMBERS, "mic", "oauth2-idp", "app", "supervisor", "oidc-idp", "saml-idp",
                         "facebook-idp")}
    if upstream:
        urls |= upstream.external
    return _target(urls, upstream)


def _target(urls: dict[str, str], upstream: VendorUpstream | None) -> targets.Target:
    """The embedded target on these URLs; narrowed to the services that broker to a vendor's
    server, if one stands in for a mock."""
    if upstream is None:
        return targets.load(targets.EMBEDDED, _variables(urls))
    return upstream.narrow(targets.load(targets.EMBEDDED, _variables(urls) | upstream.variables))

