"""The samlify IdP (server.js) run from a test's tmp dir on a free loopback port, with its own key.

``running(tmp_path, mic_port)`` starts it for the reference MIC on ``mic_port`` as the MIC
publishes itself in its SP metadata (v1: entity id ``kinvey-mobile-identity-connect``; v2
and later: ``<MIC>/kinvey-mobile-identity-connect``; the assertion consumer of each
version), and yields an ``Idp``: its URL and the certificate it signs with.
"""
from __future__ import annotations

import datetime
import json
import socket
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
ACS = {"v1": "/v1/saml/assertion", "v2": "/v2/saml/assertion/", "v3": "/v3/saml/assertion"}
USERS = {"alice": {"password": "peer-alice-pw", "email": "alice@example.com", "name": "Alice Liddell"},
         "bob": {"password": "peer-bob-pw", "email": "bob@example.com", "name": "Bob Builder"}}


@dataclass(frozen=True)
class Identity:
    key_pem: str
    cert_pem: str

    @property
    def cert_base64(self) -> str:
        """The certificate as metadata carries it: Base64 of its DER, no armour."""
        return "".join(self.cert_pem.strip().splitlines()[1:-1])


@dataclass(frozen=True)
class Idp:
    url: str
    signer: Identity


def new_identity(name: str = "samlify test IdP") -> Identity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return Identity(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode(),
                    cert.public_bytes(serialization.Encoding.PEM).decode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_providers(mic_port: int) -> list[dict[str, str]]:
    mic = f"http://127.0.0.1:{mic_port}"
    return [{"entityId": "kinvey-mobile-identity-connect" if version == "v1"
             else f"{mic}/kinvey-mobile-identity-connect", "acs": mic + path} for version, path in ACS.items()]


@contextmanager
def running(node: str, workdir: Path, mic_port: int, signer: Identity | None = None, sign: str = "assertion",
            certificate: Identity | None = None) -> Iterator[Idp]:
    """The IdP while it runs. ``signer`` signs; ``certificate`` (default: the signer's) is the one
    its metadata and ``Idp.signer`` show, so a test can make it sign with another key."""
    signer = signer or new_identity()
    shown = certificate or signer
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = workdir / "saml-idp.json"
    config.write_text(json.dumps({"port": port, "url": url, "entityId": f"{url}/saml/metadata",
                                  "privateKey": signer.key_pem, "certificate": shown.cert_pem, "sign": sign,
                                  "sps": service_providers(mic_port), "users": USERS}))
    log = workdir / "saml-idp.log"
    with log.open("w") as errors:
        process = subprocess.Popen([node, str(HERE / "server.js"), str(config)], cwd=workdir,
                                   stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        started = ""
        for _ in range(10):  # the schema validator's xmllint prints a blank line of its own
            started = process.stdout.readline()
            if started.startswith("saml-idp on ") or not started:
                break
        if not started.startswith("saml-idp on "):
            raise RuntimeError(f"the samlify IdP did not start: {started!r} {log.read_text()[-1000:]}")
        yield Idp(url, shown)
    finally:
        process.terminate()
        process.wait(timeout=10)

