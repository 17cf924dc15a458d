"""A pysaml2 crypto backend on the python ``xmlsec`` binding, and throwaway signing keys.

pysaml2's default backend spawns the ``xmlsec1`` binary about ten times per
sign-and-verify round (140-175 ms here); the binding is the same libxmlsec1 in
process (about a tenth of that). Both implement pysaml2's ``CryptoBackend``, so a
``SecurityContext`` can use either: ``bench/saml.py`` times both, and the tests sign
with one and verify with the other. Only what SAML Web SSO needs is implemented:
enveloped signatures on a node found by its ``ID``, same-document references only.
Keys are loaded once per file (loading an RSA key costs 30-40 ms).
"""
from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass
from pathlib import Path

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from saml2.sigver import CryptoBackend, SignatureError

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"

#: DTDs, entities and the network are never read: a document that needs them is not parsed as meant
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                              remove_blank_text=False)


def parse(text: str | bytes) -> etree._Element:
    """A document parsed without DTDs, entities or network access."""
    return etree.fromstring(text.encode() if isinstance(text, str) else text, SAFE_PARSER)


def _tag(node_name: str) -> str:
    """pysaml2 names nodes ``namespace:LocalName``; lxml as ``{namespace}LocalName``."""
    namespace, _, local = node_name.rpartition(":")
    return f"{{{namespace}}}{local}"


class BindingBackend(CryptoBackend):
    """Signs and verifies in process with libxmlsec1, through the ``xmlsec`` binding."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, int], xmlsec.Key] = {}
        self._lock = threading.Lock()

    def version(self) -> str:
        return "xmlsec-binding " + ".".join(map(str, xmlsec.get_libxmlsec_version()))

    def key(self, path: str, key_format: int) -> xmlsec.Key:
        with self._lock:
            if (path, key_format) not in self._keys:
                self._keys[(path, key_format)] = xmlsec.Key.from_file(path, key_format)
            return self._keys[(path, key_format)]

    def sign_statement(self, statement, node_name, key_file, node_id):
        root = parse(str(statement))
        signature = _signature_of(root, node_name, node_id)
        context = xmlsec.SignatureContext()
        context.key = self.key(key_file, xmlsec.constants.KeyDataFormatPem)
        try:
            context.sign(signature)
        except xmlsec.Error as exc:
            raise SignatureError(f"signing {node_name} {node_id}: {exc}") from None
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()

    def validate_signature(self, signedtext, cert_file, cert_type, node_name, node_id):
        root = parse(signedtext)
        signature = _signature_of(root, node_name, node_id)
        key_format = xmlsec.constants.KeyDataFormatCertPem if cert_type == "pem" \
            else xmlsec.constants.KeyDataFormatCertDer
        context = xmlsec.SignatureContext()
        context.key = self.key(cert_file, key_format)
        try:
            context.verify(signature)
        except xmlsec.Error as exc:
            raise SignatureError(f"the signature of {node_name} {node_id} does not verify: {exc}") from None
        return True


def _signature_of(root: etree._Element, node_name: str, node_id: str | None) -> etree._Element:
    """The enveloped ds:Signature of the node named ``node_name`` with ``ID`` ``node_id``."""
    xmlsec.tree.add_ids(root, ["ID"])
    tag = _tag(node_name)
    nodes = [n for n in root.iter(tag) if node_id is None or n.get("ID") == node_id]
    if len(nodes) != 1:
        raise SignatureError(f"expected one {node_name} with ID {node_id}, found {len(nodes)}")
    signature = nodes[0].find(f"{{{DSIG_NS}}}Signature")
    if signature is None:
        raise SignatureError(f"{node_name} {node_id} carries no signature")
    return signature


@dataclass(frozen=True)
class SigningIdentity:
    """An RSA key and its self-signed certificate, as PEM files (what pysaml2 and xmlsec1 read)."""

    key_file: str
    cert_file: str

    @property
    def cert_base64(self) -> str:
        """The certificate's DER in Base64 on one line, as SAML metadata carries it."""
        lines = Path(self.cert_file).read_text().strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


def generate_identity(directory: str | Path, name: str, common_name: str) -> SigningIdentity:
    """A fresh 2048-bit RSA key and a ten-year self-signed certificate, written to ``directory``.

    Generated at startup and never committed: the files live as long as the directory.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)  # certificates are not clocked here
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=3650 * 3)).sign(key, hashes.SHA256()))
    directory = Path(directory)
    key_file, cert_file = directory / f"{name}.key.pem", directory / f"{name}.cert.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return SigningIdentity(str(key_file), str(cert_file))
