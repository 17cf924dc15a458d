"""``python -m tests.peers.slapd DIR``: an OpenLDAP slapd in the foreground, for certifying it by hand.

It serves the mock directory's tree from DIR (its configuration, database and CA certificate
written there, as the tests do), prints what to export and the certify command, and stops on
Ctrl-C.
"""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from . import SERVICE, running


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.peers.slapd DIR", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with running(Path(argv[0]).resolve()) as slapd:
        print(f"slapd on {slapd.url} (its CA: {slapd.directory / 'ca.pem'}); to certify it:\n"
              f'  export LDAP_CA_PEM="$(cat {slapd.directory / "ca.pem"})" LDAP_BIND_PASSWORD={SERVICE[1]}\n'
              f"  .venv/bin/mic-harness certify --profile directory-connector --connector-url {slapd.url} "
              "--connector harness/upstreams/openldap.yaml --report certification/openldap\n"
              "Ctrl-C stops it.", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
