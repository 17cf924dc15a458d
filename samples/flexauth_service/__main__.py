"""Run the sample FlexAuth service, or add a user to its database.

    python -m samples.flexauth_service --auth-key SECRET [--port 10001] [--handler login]
                                       [--database users.sqlite3] [--demo-users]
    python -m samples.flexauth_service add-user NAME [--mfa] [--attribute email=a@b.org]
                                       [--database users.sqlite3]   (the password is read from stdin)

Options fall back to the environment: FLEXAUTH_AUTH_KEY, FLEXAUTH_PORT, FLEXAUTH_HANDLER,
FLEXAUTH_DATABASE.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from werkzeug.serving import make_server

from . import create_app
from .users import UserStore


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", default=env.get("FLEXAUTH_DATABASE", "flexauth-users.sqlite3"),
                        help="the SQLite file of users (created if missing)")
    parser = argparse.ArgumentParser(prog="python -m samples.flexauth_service", parents=[common],
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(env.get("FLEXAUTH_PORT", "10001")),
                        help="0 picks a free port (the line printed at start says which)")
    parser.add_argument("--handler", default=env.get("FLEXAUTH_HANDLER", "login"),
                        help="the handler name the MIC is configured with: POST /_auth/<handler>")
    parser.add_argument("--auth-key", default=env.get("FLEXAUTH_AUTH_KEY"),
                        help="the shared secret the MIC sends as X-Auth-Key (prefer FLEXAUTH_AUTH_KEY: "
                             "command lines are visible to other users)")
    parser.add_argument("--demo-users", action="store_true",
                        help="add the conformance suite's test users (alice, bob, Zoë-日本, carol with MFA)")
    commands = parser.add_subparsers(dest="command")
    add = commands.add_parser("add-user", parents=[common], help="add a user (or replace one of that name)")
    add.add_argument("username")
    add.add_argument("--mfa", action="store_true", help="the user needs a second factor: passwords alone are refused")
    add.add_argument("--attribute", action="append", default=[], metavar="NAME=VALUE",
                     help="an attribute sent with a successful login (repeatable; repeated names make a list)")
    args = parser.parse_args(argv)

    if args.command == "add-user":
        return _add_user(args)
    if not args.auth_key:
        parser.error("the auth key is required: --auth-key or FLEXAUTH_AUTH_KEY")
    app = create_app(args.database, args.auth_key, args.handler)
    if args.demo_users:
        app.extensions["flexauth_users"].add_demo_users()
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"FlexAuth service on http://{args.host}:{server.server_port} (handler {args.handler})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _add_user(args: argparse.Namespace) -> int:
    attributes: dict[str, object] = {}
    for item in args.attribute:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"--attribute takes NAME=VALUE, not {item!r}", file=sys.stderr)
            return 2
        previous = attributes.get(name)
        attributes[name] = value if previous is None else [*(previous if isinstance(previous, list) else
                                                             [previous]), value]
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    try:
        UserStore(args.database).add(args.username, password, mfa_required=args.mfa, attributes=attributes)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"added {args.username} to {args.database}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
