"""A strict LDAP directory, plain (OpenLDAP-like) or Active Directory, on ldaptor and Twisted.

An LDAP server has no HTTP side, so its control surface (clock, faults, request log of
binds and searches) is a small WSGI app served beside it; both share one ``Directory``.
It serves plain LDAP with StartTLS, and LDAPS, with a certificate from ``tls``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from OpenSSL import SSL
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from twisted.protocols.tls import TLSMemoryBIOFactory
from zope.interface import implementer

from plumbing.clock import Clock, SystemClock
from plumbing.control import ControlSurface
from plumbing.faults import Fault
from plumbing.masking import mask_fields
from plumbing.tls import LocalTLS

from . import tree
from .faults import DirectoryFaultBook
from .flavours import FLAVOURS, Flavour
from .server import DirectoryFactory

FIXTURES = Path(__file__).with_name("fixtures")
DEFAULT_FIXTURES = {"ldap": FIXTURES / "ldap.ldif", "active-directory": FIXTURES / "active-directory.ldif"}


@dataclass
class Directory:
    flavour: Flavour
    clock: Clock
    #: the certificate for LDAPS and StartTLS (None: neither is offered)
    tls: LocalTLS | None = None
    #: the most entries, and seconds, a search may take, whatever the client asks
    size_limit: int = 500
    time_limit: int = 3600
    control: ControlSurface | None = None
    _tls_options: Any = field(default=None, init=False, repr=False)

    @property
    def root(self):
        return self.flavour.root

    def server_factory(self) -> DirectoryFactory:
        """Plain LDAP (with StartTLS when the directory has a certificate)."""
        return DirectoryFactory(self)

    def ldaps_factory(self) -> TLSMemoryBIOFactory:
        """LDAPS: TLS from the first byte."""
        if self.tls is None:
            raise ValueError("LDAPS needs a directory built with a certificate (tls=)")
        return TLSMemoryBIOFactory(self.tls_options(), False, DirectoryFactory(self))

    def tls_options(self) -> "_ServerTLS":
        if self._tls_options is None:
            self._tls_options = _ServerTLS(self.tls)
        return self._tls_options

    def control_app(self) -> Callable[[dict, Callable], Iterable[bytes]]:
        """The HTTP control surface (test mode); everything else on it is a 404."""
        if self.control is None:
            raise ValueError("this directory was not built in test mode")
        return self.control.wrap(_nothing_but_control)

    def record(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """Log an operation (secrets masked); the caller fills in its answer."""
        if self.control is None:
            return {}
        return self.control.requests.record({"method": operation.upper(), "path": f"/{operation}", "query": {},
                                             "headers": {}, "body": mask_fields(body)})

    def fault_for(self, operation: str, entry: dict[str, Any]) -> Fault | None:
        fault = None if self.control is None else self.control.faults.take(operation.upper(), f"/{operation}")
        if fault is not None:
            entry["fault"] = fault.id
        return fault


def create_directory(flavour: str = "ldap", ldif: str | Path | None = None, *, clock: Clock | None = None,
                     test_mode: bool = False, tls: LocalTLS | None = None, size_limit: int = 500) -> Directory:
    """A directory of the given flavour (``ldap`` or ``active-directory``) seeded from an LDIF file."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown directory flavour {flavour!r} (known: {', '.join(FLAVOURS)})")
    clock = clock or SystemClock()
    root = tree.load(ldif or DEFAULT_FIXTURES[flavour])
    control = None
    if test_mode:
        control = ControlSurface(clock)
        control.faults = DirectoryFaultBook()
    return Directory(FLAVOURS[flavour](root), clock, tls=tls, size_limit=size_limit, control=control)


@implementer(IOpenSSLServerConnectionCreator)
class _ServerTLS:
    """The certificate as Twisted's TLS wants it: an OpenSSL context, built once."""

    def __init__(self, tls: LocalTLS) -> None:
        self._context = SSL.Context(SSL.TLS_SERVER_METHOD)
        self._context.set_min_proto_version(SSL.TLS1_2_VERSION)
        self._context.use_privatekey(load_pem_private_key(tls.leaf.private_key_pem.bytes(), None))
        certificates = [x509.load_pem_x509_certificate(pem.bytes()) for pem in tls.leaf.cert_chain_pems]
        self._context.use_certificate(certificates[0])
        for certificate in certificates[1:]:
            self._context.add_extra_chain_cert(certificate)

    def serverConnectionForTLS(self, protocol) -> SSL.Connection:
        return SSL.Connection(self._context, None)


def _nothing_but_control(environ: dict, start_response: Callable) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [json.dumps({"error": "not_found",
                        "error_description": "an LDAP directory's control surface: see /_control/"}).encode()]
