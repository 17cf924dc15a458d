"""Run the mock SAML IdP on its own: ``python -m mock_idps.saml --port 8082 --var MIC=http://…``.

``MIC`` is the MIC's URL (its service providers' entity ids and assertion consumers are under
it). It signs with the key in ``--key-file`` and publishes the certificate in ``--cert-file``
(PEM): both are used when both exist, and made afresh when neither does, so a restarted IdP
keeps the certificate an SP was told. ``--test-mode`` adds the clock, faults, request log and
the Response tampering.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from mock_idps.shared import standalone
from plumbing.xmldsig import SigningIdentity, generate_identity

from . import create_app
from . import fixture as fixtures

PROG = "python -m mock_idps.saml"


class IdentityError(Exception):
    """A signing key and certificate the IdP cannot sign with."""


def main(argv: list[str] | None = None) -> int:
    parser = standalone.parser(PROG, __doc__, fixtures.DEFAULT, 8082)
    parser.add_argument("--key-file", default="mock-saml-idp.key.pem", help="the signing key (PEM)")
    parser.add_argument("--cert-file", default="mock-saml-idp.cert.pem", help="its certificate (PEM)")
    args = parser.parse_args(argv)
    try:
        signer, origin = signing_identity(Path(args.key_file), Path(args.cert_file))
    except IdentityError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    return standalone.serve(
        PROG, "mock SAML IdP", lambda: create_app(args.fixture, signer=signer, **standalone.app_options(args)), args,
        notes=lambda url: [f"  entity id {url}/saml/metadata",
                           f"  signing with {args.key_file}, certificate in {args.cert_file} ({origin})"])


def signing_identity(key_file: Path, cert_file: Path) -> tuple[SigningIdentity, str]:
    """The key and certificate at these paths, checked to belong together; a fresh pair written
    there when neither exists."""
    if not key_file.exists() and not cert_file.exists():
        with tempfile.TemporaryDirectory(prefix="mock-saml-idp-") as directory:
            made = generate_identity(directory, "idp", "mock SAML IdP")
            shutil.move(made.key_file, key_file)
            shutil.move(made.cert_file, cert_file)
        return SigningIdentity(str(key_file), str(cert_file)), "made now"
    for present, missing in ((key_file, cert_file), (cert_file, key_file)):
        if not missing.exists():
            raise IdentityError(f"{present} exists but {missing} does not: give both, or neither for a fresh pair")
    try:
        key = load_pem_private_key(key_file.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise IdentityError(f"cannot sign with {key_file} and {cert_file}: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise IdentityError(f"{key_file} is not an RSA key: the IdP signs with RSA-SHA256")
    if cert.public_key() != key.public_key():
        raise IdentityError(f"{cert_file} is not the certificate of the key in {key_file}")
    return SigningIdentity(str(key_file), str(cert_file)), "as found"


if __name__ == "__main__":
    sys.exit(main())
