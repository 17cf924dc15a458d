"""Benchmark: one SAML round (the IdP signs a Response, the MIC's connector checks it), with
pysaml2's default crypto backend (the ``xmlsec1`` binary) and with the in-process
``xmlsec`` binding (``plumbing.xmldsig.BindingBackend``); then the SAML scenarios' cells.

    .venv/bin/python bench/saml.py [--rounds 30]

A round: draft and sign a Response (assertion signed, RSA-SHA256), then the MIC reads
it with every check, signature verification included. The scenario cells are timed
by running them (HTTP driver and browser) on the embedded fleet, which uses the binding
(with a report written, which adds ~2 ms an HTTP cell and ~35 ms a browser cell).
"""
from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from saml2.sigver import CryptoBackendXmlSec1, get_xmlsec_binary

from mic_reference.connectors import saml_response
from mic_reference.connectors.saml import request_id
from mock_idps.saml import responses
from mock_idps.saml.idp import security_context
from plumbing.xmldsig import BindingBackend, generate_identity

ROOT = Path(__file__).resolve().parent.parent
ACS = "http://mic.test/v2/saml/assertion/"
SP = "http://mic.test/kinvey-mobile-identity-connect"
IDP = "http://idp.test/saml/metadata"


def one_round(security, verifier, signer, now: float) -> None:
    draft = responses.Draft(
        issuer=IDP, destination=ACS, recipient=ACS, audience=SP, in_response_to=request_id("ref"),
        name_id="alice@example.com", name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        attributes={"email": ["alice@example.com"], "groups": ["readers", "writers"]}, issue_instant=now,
        not_before=now, not_on_or_after=now + 300, signer=signer)
    xml = responses.sign(draft, security)

    def verify(raw: bytes, node_name: str, node_id: str) -> None:
        if not verifier.validate_signature(raw, signer.cert_file, "pem", node_name, node_id):
            raise ValueError("signature")

    saml_response.read(base64.b64encode(xml.encode()).decode(), saml_response.Expected(
        idp_entity_id=IDP, sp_entity_id=SP, acs_url=ACS, request_id=request_id("ref"),
        name_id_format=draft.name_id_format, now=now, skew=30, verify=verify))


def time_rounds(crypto: str, rounds: int, signer) -> list[float]:
    security = security_context(crypto, signer)
    verifier = CryptoBackendXmlSec1(get_xmlsec_binary()) if crypto == "xmlsec1" else BindingBackend()
    now = time.time()
    one_round(security, verifier, signer, now)  # warm-up: keys loaded, binary paged in
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        one_round(security, verifier, signer, now)
        times.append((time.perf_counter() - began) * 1000)
    return times


def scenario_medians() -> str:
    """The SAML scenario cells' durations, from a harness run's results."""
    with tempfile.TemporaryDirectory() as report:
        run = subprocess.run([str(ROOT / ".venv/bin/mic-harness"), "run", "scenarios/saml", "scenarios/login",
                              "scenarios/sso", "-k", "saml", "--report", report],
                             cwd=ROOT, check=False, capture_output=True, text=True)
        results = Path(report) / "results.json"
        if not results.exists():
            return "  the harness wrote no results:\n" + (run.stdout + run.stderr)[-2000:]
        cells = json.loads(results.read_text())["results"]
    by_driver: dict[str, list[float]] = {}
    for cell in cells:
        if cell["outcome"] == "passed":
            by_driver.setdefault(cell["driver"], []).append(cell["seconds"] * 1000)
    return "\n".join(f"  {driver:8} {len(t):3} cells, median {statistics.median(t):6.1f} ms, max {max(t):6.1f} ms"
                     for driver, t in sorted(by_driver.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-scenarios", action="store_true", help="time the crypto rounds only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as keys:
        signer = generate_identity(keys, "bench", "bench IdP")
        print(f"SAML round (sign a Response, read and verify it), {args.rounds} rounds:")
        for crypto, label in (("xmlsec1", "before: xmlsec1 binary"), ("binding", "after:  xmlsec binding")):
            times = time_rounds(crypto, args.rounds, signer)
            print(f"  {label:24} median {statistics.median(times):7.1f} ms, p90 "
                  f"{sorted(times)[int(len(times) * 0.9) - 1]:7.1f} ms")
    if not args.no_scenarios:
        print("SAML scenario cells on the embedded fleet (xmlsec binding):")
        print(scenario_medians())
    return 0


if __name__ == "__main__":
    sys.exit(main())
