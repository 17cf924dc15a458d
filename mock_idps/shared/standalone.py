"""What ``python -m mock_idps.<provider>`` shares: the options, a fixture that fails with its
file and line, and one threaded process (tokens and sessions live in memory) that prints the
URL it was given (``--port 0`` takes a free one) and stops cleanly on SIGTERM or Ctrl-C.
"""
from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from plumbing.clock import SystemClock, VirtualClock
from plumbing.serving import serve_until_stopped
from plumbing.yamlfile import YamlError


def main(prog: str, doc: str, title: str, create_app: Callable[..., Flask], fixture: Path, port: int,
         argv: list[str] | None) -> int:
    """A provider whose ``create_app`` takes only the fixture, clock, test mode and variables."""
    args = parser(prog, doc, fixture, port).parse_args(argv)
    return serve(prog, title, lambda: create_app(args.fixture, **app_options(args)), args)


def app_options(args: argparse.Namespace) -> dict:
    """``create_app``'s clock (virtual in test mode: the control surface moves it), test mode and variables."""
    return {"clock": VirtualClock() if args.test_mode else SystemClock(), "test_mode": args.test_mode,
            "variables": dict(args.var)}


def parser(prog: str, doc: str, fixture: Path, port: int) -> argparse.ArgumentParser:
    """The options every standalone mock takes; a provider adds its own."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("--fixture", default=str(fixture), help="users and clients YAML (default: the bundled one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port, help=f"default {port}; 0 takes a free one")
    parser.add_argument("--var", action="append", default=[], type=_assignment, metavar="NAME=VALUE",
                        help="fills ${NAME} in the fixture, such as MIC, the MIC's URL (repeatable)")
    parser.add_argument("--test-mode", action="store_true",
                        help="a virtual clock and the control surface under /_control/")
    return parser


def _assignment(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name, value


def serve(prog: str, title: str, build: Callable[[], Flask], args: argparse.Namespace,
          notes: Callable[[str], list[str]] = lambda url: []) -> int:
    """Build the app and serve it until SIGTERM or Ctrl-C; a broken fixture or a busy port is
    a message and exit status 2. The first line printed is ``<title> on <url>``, then ``notes``."""
    try:
        app = build()
        server = make_server(args.host, args.port, app, threaded=True)
    except (YamlError, OSError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    url = f"http://{args.host}:{server.server_port}"
    lines = [f"{title} on {url}", *notes(url)]
    if args.test_mode:
        lines.append(f"  control surface on {url}/_control/")
    print(*lines, sep="\n", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    return serve_until_stopped(server)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
