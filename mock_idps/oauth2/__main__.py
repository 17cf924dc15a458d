"""Run the mock OAuth2 provider on its own: ``python -m mock_idps.oauth2 --port 8081 --var MIC=http://…``.

One process, as its tokens and sessions live in memory, with granian's threads
serving it, so that it keeps up with a MIC that runs several workers.
"""
from __future__ import annotations

import argparse
import sys
from functools import partial

from granian import Granian
from granian.constants import Interfaces

from plumbing.yamlfile import YamlError

from . import create_app
from . import fixture as fixtures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mock_idps.oauth2", description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", default=str(fixtures.DEFAULT),
                        help="users and clients YAML (default: the bundled one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="fills ${NAME} in the fixture (repeatable)")
    parser.add_argument("--threads", type=int, default=16, help="threads serving requests")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads takes a number from 1 up")
    build = partial(create_app, args.fixture, variables=dict(item.split("=", 1) for item in args.var if "=" in item))
    try:
        build()  # reports a broken fixture here, not in the worker
    except YamlError as exc:
        print(f"mock_idps.oauth2: {exc}", file=sys.stderr)
        return 2
    print(f"mock OAuth2 provider on http://{args.host}:{args.port}", flush=True)
    server = Granian("mock_idps.oauth2:create_app", address=args.host, port=args.port, interface=Interfaces.WSGI,
                     workers=1, blocking_threads=args.threads, websockets=False)
    server.serve(target_loader=build, wrap_loader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
