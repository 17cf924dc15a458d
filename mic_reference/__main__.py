"""Run the reference MIC on its own: ``python -m mic_reference --port 8080 --var OAUTH2_IDP=http://…``.

Keys and the database come from ``MIC_VAULT_KEYS`` and ``MIC_DATABASE_URL`` (or the
options); ``--test-mode`` adds the control surface and a virtual clock.
"""
from __future__ import annotations

import argparse
import sys

from werkzeug.serving import make_server

from plumbing.clock import SystemClock, VirtualClock
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
    args = parser.parse_args(argv)
    variables = dict(item.split("=", 1) for item in args.var if "=" in item)
    try:
        app = create_app(args.config, clock=VirtualClock() if args.test_mode else SystemClock(),
                         test_mode=args.test_mode, variables=variables, database_url=args.database_url)
    except (YamlError, KeyringError) as exc:
        print(f"mic_reference: {exc}", file=sys.stderr)
        return 2
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"reference MIC on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
