"""``mic-harness``: run, certify, validate and list the conformance scenarios, or serve the fleet.

``run``, ``certify`` and ``list`` are pytest with this package's plugin, so a scenario
behaves the same from the CLI, from ``pytest scenarios/`` and in CI.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from plumbing.yamlfile import YamlError

from . import certify, coverage, expected, profiles, scenario as scenarios, target as targets
from .fleet import EmbeddedFleet
from .serve_table import render

#: CLI option -> plugin option, for the options every pytest-backed command takes
_TARGET_OPTIONS = {"target": "--mic-target", "mic_url": "--mic-url", "app_key": "--mic-app-key",
                   "app_secret": "--mic-app-secret", "service": "--mic-service", "profile": "--mic-profile",
                   "connector_url": "--mic-connector-url", "connector": "--mic-connector"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mic-harness", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    aimed = argparse.ArgumentParser(add_help=False)
    aimed.add_argument("--target", metavar="FILE", help="a target file for a MIC elsewhere (default: the embedded "
                                                       "reference MIC and mocks)")
    aimed.add_argument("--mic-url", metavar="URL", help="the target's MIC URL, overriding its file")
    aimed.add_argument("--app-key", metavar="KEY", help="the target's app key, overriding its file")
    aimed.add_argument("--app-secret", metavar="SECRET", help="the target's app secret, overriding its file")
    aimed.add_argument("--service", metavar="ID", help="only this auth service of the target")
    aimed.add_argument("--tls", action="store_true", help="run the embedded fleet over HTTPS (a throwaway local CA)")
    aimed.add_argument("--connector-url", metavar="URL", help="a vendor's identity provider or custom auth service "
                       "in place of the profile's mock, behind the reference MIC (needs --profile)")
    aimed.add_argument("--connector", metavar="FILE", help="the vendor's declaration: variables, test users, login "
                       "page (see harness/upstreams/example.yaml)")
    paths = argparse.ArgumentParser(add_help=False)
    paths.add_argument("paths", nargs="*", help="scenario files or directories (default: scenarios, or the profile's)")
    paths.add_argument("-k", dest="keyword", help="only cells whose id matches this pytest -k expression")
    paths.add_argument("--profile", choices=profiles.available(), help="only the cells of this profile")
    for flag, meta, what in (("-m", "MARKEXPR", "only cells whose tags match this pytest -m expression"),
                             ("--maxfail", "N", "stop after N failed cells"),
                             ("--durations", "N", "show the N slowest cells")):
        paths.add_argument(flag, metavar=meta, dest=f"pass_{flag.strip('-')}", help=f"{what} (pytest's own); "
                           "other pytest options without a value (-x, --lf, -q) pass through too")

    run = commands.add_parser("run", parents=[aimed, paths], help="run scenarios and write the report")
    run.add_argument("--report", default="reports", metavar="DIR", help="where the report goes (default: reports)")
    run.add_argument("--expected-failures", metavar="FILE", help="known deviations (cells that are expected to fail)")
    run.add_argument("--baseline", metavar="RESULTS_JSON", help="fail on cells that newly fail against this run")
    run.add_argument("-n", dest="workers", metavar="N", help="run in N processes (pytest-xdist; 'auto' for one per core)")
    cert = commands.add_parser("certify", parents=[aimed], help="run a profile and write a certification package")
    cert.add_argument("--profile", required=True, choices=profiles.available())
    cert.add_argument("--report", metavar="DIR", help="where the package goes (default: certification/<profile>)")
    listing = commands.add_parser("list", parents=[aimed, paths], help="print the matrix cells the scenarios "
                                  "expand to, or the profiles")
    listing.add_argument("--profiles", action="store_true", dest="profiles",
                         help="print the certification profiles instead")
    check = commands.add_parser("validate", help="check scenario files (and a target file) without running anything")
    check.add_argument("paths", nargs="*", default=["scenarios"], help="scenario files or directories")
    check.add_argument("--target", metavar="FILE", help="also check this target file")
    check.add_argument("--expected-failures", metavar="FILE", help="also check this expected-failures file")
    cover = commands.add_parser("coverage", help="which catalogued requirements the scenarios check; fails on a "
                                "cite the catalogue lacks")
    cover.add_argument("paths", nargs="*", default=["scenarios"], help="scenario files or directories")
    cover.add_argument("--catalogue", default=coverage.CATALOGUE, metavar="FILE",
                       help="the requirement catalogue (default: the bundled harness/requirements.yaml)")
    cover.add_argument("--json", action="store_true", help="print the matrix as JSON")
    commands.add_parser("schema", help="print the scenario language's JSON Schema (as shipped in the package)")
    commands.add_parser("serve", help="run the fleet in the foreground and print what it serves")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("run", "list"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    #: what run and list do not know themselves goes to pytest as it is (-x, -m, --lf, --maxfail, -q, ...)
    args.pytest = extra
    handler = {"run": _run, "certify": _certify, "list": _list, "validate": _validate,
               "coverage": _coverage, "schema": _schema, "serve": _serve}[args.command]
    return handler(args)


def _pytest_args(args: argparse.Namespace) -> list[str]:
    """The plugin options and paths shared by run, certify and list."""
    chosen = list(getattr(args, "paths", None) or [])
    if not chosen:
        chosen = [str(p) for p in profiles.load(args.profile).files()] if args.profile else ["scenarios"]
    options = ["--no-header", *chosen]
    for name, flag in _TARGET_OPTIONS.items():
        value = getattr(args, name, None)
        if value:
            options += [flag, value]
    if args.tls:
        options.append("--mic-tls")
    if getattr(args, "keyword", None):
        options += ["-k", args.keyword]
    for flag in ("-m", "--maxfail", "--durations"):
        value = getattr(args, f"pass_{flag.strip('-')}", None)
        if value:
            options += [flag, value]
    return options + list(getattr(args, "pytest", None) or [])


def _run(args: argparse.Namespace) -> int:
    report = Path(args.report)
    options = _pytest_args(args) + ["-v", "--mic-report", str(report), f"--junitxml={report / 'junit.xml'}",
                                    "-o", "junit_family=xunit2"]
    if args.expected_failures:
        options += ["--mic-expected-failures", args.expected_failures]
    if args.baseline:
        options += ["--mic-baseline", args.baseline]
    if args.workers:
        options += ["-n", args.workers]
    return int(pytest.main(options))


def _certify(args: argparse.Namespace) -> int:
    report = Path(args.report or Path("certification") / args.profile)
    (report / "results.json").unlink(missing_ok=True)  # an earlier run's results must not be judged
    code = _run(argparse.Namespace(**{**vars(args), "paths": [], "keyword": None, "pytest": [], "report": str(report),
                                      "expected_failures": None, "baseline": None, "workers": None}))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        print(f"mic-harness certify: the run did not complete (pytest exit {code}); no package written",
              file=sys.stderr)
        return int(code)
    if not (report / "results.json").is_file():
        print(f"mic-harness certify: the run wrote no results ({report / 'results.json'}); no package written",
              file=sys.stderr)
        return int(pytest.ExitCode.NO_TESTS_COLLECTED)
    verdict = certify.package(report, profiles.load(args.profile))
    for line in verdict.lines():
        print(line)
    print(f"package: {report} ({certify.MANIFEST}, {certify.DIGEST}, report.html, results.json, junit.xml)")
    return 1 if verdict.verdict == "refused" else 0


def _list(args: argparse.Namespace) -> int:
    if args.profiles:
        for name in profiles.available():
            profile = profiles.load(name)
            scope = [f"connectors: {', '.join(profile.connectors)}"] if profile.connectors else []
            scope += [f"--connector-url replaces: {', '.join(profile.upstream)}"] if profile.upstream else []
            print(f"{name}{' (' + '; '.join(scope) + ')' if scope else ''}\n    {profile.description.strip()}")
        return 0
    return int(pytest.main(_pytest_args(args) + ["--collect-only", "-q"]))


def _validate(args: argparse.Namespace) -> int:
    """Every file is checked, every error printed; nothing starts, nothing runs."""
    began = time.perf_counter()
    files, errors = 0, []
    for path in _scenario_files(args.paths, errors):
        files += 1
        try:
            scenarios.load(path)
        except YamlError as exc:
            errors.append(str(exc))
    for path, load in ((args.target, lambda p: targets.load(p, dict(os.environ))),
                       (args.expected_failures, expected.load)):
        if path:
            files += 1
            try:
                load(path)
            except (YamlError, KeyError) as exc:
                errors.append(str(exc.args[0] if isinstance(exc, KeyError) else exc))
    for error in errors:
        print(error, file=sys.stderr)
    elapsed = (time.perf_counter() - began) * 1000
    print(f"{files} file(s) checked in {elapsed:.0f} ms: " + (f"{len(errors)} error(s)" if errors else "all valid"))
    return 1 if errors else 0


def _scenario_files(paths: list[str], errors: list[str]) -> list[Path]:
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            found.append(path)
        else:
            errors.append(f"{raw}: no such file or directory")
    return found


def _coverage(args: argparse.Namespace) -> int:
    errors: list[str] = []
    files = _scenario_files(args.paths, errors)
    return coverage.main(files, errors, args.catalogue, machine=args.json)


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(scenarios.published_schema(), indent=2))
    return 0


def _serve(args: argparse.Namespace) -> int:
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


def entry() -> int:
    """The console script: a closed pipe (``mic-harness list | head``) ends the output quietly."""
    try:
        return main()
    except BrokenPipeError:
        sys.stdout = None
        return 0


if __name__ == "__main__":
    sys.exit(entry())
