"""``mic-harness``: run the conformance scenarios, or serve the fleet for a person to try.

``run`` is pytest with this package's plugin, so a scenario behaves the same from the
CLI, from ``pytest scenarios/`` and in CI.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import pytest

from .fleet import EmbeddedFleet
from .serve_table import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mic-harness", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run scenario files against the embedded fleet")
    run.add_argument("paths", nargs="*", default=["scenarios"], help="scenario files or directories")
    run.add_argument("-k", dest="keyword", help="only cells whose id matches this pytest -k expression")
    run.add_argument("--report", default="reports", metavar="DIR", help="where the report goes (default: reports)")
    run.add_argument("--tls", action="store_true", help="run the embedded fleet over HTTPS (a throwaway local CA)")
    commands.add_parser("serve", help="run the fleet in the foreground and print what it serves")
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    return _serve()


def _run(args: argparse.Namespace) -> int:
    report = Path(args.report)
    pytest_args = [*args.paths, "-v", "-p", "no:cacheprovider", "--mic-report", str(report),
                   f"--junitxml={report / 'junit.xml'}", "-o", "junit_family=xunit2", "--no-header"]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.tls:
        pytest_args.append("--mic-tls")
    return int(pytest.main(pytest_args))


def _serve() -> int:
    fleet = EmbeddedFleet().start()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(render(fleet), flush=True)
        print("Serving; Ctrl-C stops.", flush=True)
        stop.wait()
    finally:
        fleet.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
