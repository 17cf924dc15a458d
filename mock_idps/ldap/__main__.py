"""Run a mock directory on its own: ``python -m mock_idps.ldap --flavour active-directory --port 3389``.

It serves plain LDAP (and StartTLS), LDAPS with ``--ldaps-port``, and with
``--control-port`` its control surface over HTTP (a virtual clock, faults, the request
log). TLS uses a throwaway CA whose certificate is written to ``--ca-file`` for clients
to trust (``LDAPTLS_CACERT=… ldapsearch -ZZ …``).
"""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from twisted.internet import reactor
from werkzeug.serving import make_server

from plumbing.clock import SystemClock, VirtualClock
from plumbing.tls import LocalTLS

from . import FLAVOURS, create_directory
from .tree import FixtureError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mock_idps.ldap", description=__doc__.splitlines()[0])
    parser.add_argument("--flavour", choices=sorted(FLAVOURS), default="ldap")
    parser.add_argument("--ldif", help="the tree (default: the flavour's bundled fixture)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3389, help="plain LDAP, with StartTLS")
    parser.add_argument("--ldaps-port", type=int, help="also serve LDAPS here")
    parser.add_argument("--control-port", type=int, help="test mode: the control surface over HTTP here")
    parser.add_argument("--ca-file", default="mock-directory-ca.pem", help="where the CA certificate is written")
    args = parser.parse_args(argv)
    tls = LocalTLS()
    test_mode = args.control_port is not None
    try:
        directory = create_directory(args.flavour, args.ldif, clock=VirtualClock() if test_mode else SystemClock(),
                                     test_mode=test_mode, tls=tls)
    except FixtureError as exc:
        print(f"mock_idps.ldap: {exc}", file=sys.stderr)
        return 2
    Path(args.ca_file).write_bytes(tls.ca_pem())
    ports = [reactor.listenTCP(args.port, directory.server_factory(), interface=args.host)]
    print(f"mock {args.flavour} directory on ldap://{args.host}:{ports[0].getHost().port} "
          f"(CA certificate in {args.ca_file})", flush=True)
    if args.ldaps_port is not None:
        ports.append(reactor.listenTCP(args.ldaps_port, directory.ldaps_factory(), interface=args.host))
        print(f"  and ldaps://{args.host}:{ports[-1].getHost().port}", flush=True)
    if test_mode:
        control = make_server(args.host, args.control_port, directory.control_app(), threaded=True)
        threading.Thread(target=control.serve_forever, daemon=True).start()
        print(f"  control surface on http://{args.host}:{control.server_port}/_control/", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
