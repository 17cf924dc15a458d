"""Run the reference MIC on its own: ``python -m mic_reference --port 8080 --var OAUTH2_IDP=http://…``.

Keys and the database come from ``MIC_VAULT_KEYS`` and ``MIC_DATABASE_URL`` (or the
options); ``--test-mode`` adds the control surface and a virtual clock. By default one
process serves (werkzeug's threaded server); ``--workers N`` serves from N processes
(granian) sharing the vault's database, for when one process's GIL is the limit.
"""
from __future__ import annotations

import argparse
import sys
from functools import partial

from granian import Granian
from granian.constants import Interfaces
from werkzeug.serving import WSGIRequestHandler, make_server

from plumbing.clock import SystemClock, VirtualClock
from plumbing.serving import serve_until_stopped
from plumbing.yamlfile import YamlError

from . import config as mic_config
from . import create_app
from .vault import KeyringError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mic_reference", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(mic_config.DEMO), help="configuration YAML (default: the demo)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="fills ${NAME} in the configuration (repeatable)")
    parser.add_argument("--database-url", help="SQLAlchemy URL of the vault (default: $MIC_DATABASE_URL)")
    parser.add_argument("--test-mode", action="store_true", help="control surface and virtual clock")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="serve from N processes (granian) instead of one")
    parser.add_argument("--public-url", help="where apps and identity providers reach this MIC, the start of every "
                                             "absolute URL it hands out (default: http://HOST:PORT)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process (with --workers)")
    args = parser.parse_args(argv)
    if args.workers is not None:
        if args.workers < 1 or args.threads < 1:
            parser.error("--workers and --threads take a number from 1 up")
        if args.test_mode:
            parser.error("--test-mode needs one process: its clock, faults and request log live in it")
        if args.port == 0:
            parser.error("--workers needs a fixed --port")
    variables = dict(item.split("=", 1) for item in args.var if "=" in item)
    # bound first, so that the default public URL can name the port a --port 0 was given
    server = None if args.workers is not None else make_server(args.host, args.port, _unready, threaded=True,
                                                                request_handler=_Handler)
    port = args.port if server is None else server.server_port
    build = partial(create_app, args.config, clock=VirtualClock() if args.test_mode else SystemClock(),
                    test_mode=args.test_mode, variables=variables, database_url=args.database_url,
                    public_url=args.public_url or f"http://{args.host}:{port}")
    try:
        app = build()
    except (YamlError, KeyringError, ValueError) as exc:
        print(f"mic_reference: {exc}", file=sys.stderr)
        if server is not None:
            server.server_close()
        return 2
    if server is None:
        return _serve_workers(app, build, args)
    server.app = app
    print(f"reference MIC on http://{args.host}:{server.server_port}", flush=True)
    return serve_until_stopped(server)


def _unready(environ, start_response):
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler, whose Server header names no versions for a probe to match against
    (granian's names none either)."""

    def version_string(self) -> str:
        return "Werkzeug"


def _serve_workers(app, build, args: argparse.Namespace) -> int:
    """Serve from processes that each build their own app: state they share must be in the vault."""
    vault = app.extensions["mic"].vault
    refusal = ("the admin API's changes live in one process" if "mic_admin_token" in app.extensions
               else "an in-memory vault lives in one process" if vault.in_memory else None)
    if refusal:
        print(f"mic_reference: {refusal}; run without --workers", file=sys.stderr)
        return 2
    # This app checked the configuration and keys and created the vault's tables (so the
    # workers do not race to); the workers open their own connections.
    vault.close()
    print(f"reference MIC on http://{args.host}:{args.port} ({args.workers} processes)", flush=True)
    server = Granian("mic_reference:create_app", address=args.host, port=args.port, interface=Interfaces.WSGI,
                     workers=args.workers, blocking_threads=args.threads, websockets=False)
    server.serve(target_loader=build, wrap_loader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
