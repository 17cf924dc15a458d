"""A throwaway local certificate authority, to run the whole fleet over HTTPS.

One CA and one server certificate (for 127.0.0.1 and localhost) per fleet; servers
present it, clients trust the CA and nothing else is loosened. Chromium, which keeps
its own trust store, is told to accept exactly this certificate's key (SPKI pin).
"""
from __future__ import annotations

import base64
import hashlib
import ssl
from dataclasses import dataclass, field

import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


@dataclass
class LocalTLS:
    ca: trustme.CA = field(default_factory=trustme.CA)
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost")

    def __post_init__(self) -> None:
        self.leaf = self.ca.issue_cert(*self.hosts)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.leaf.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()

    def spki_pin(self) -> str:
        """base64(SHA-256(SubjectPublicKeyInfo)) of the server certificate, as Chromium wants it."""
        certificate = x509.load_pem_x509_certificate(self.leaf.cert_chain_pems[0].bytes())
        spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()
