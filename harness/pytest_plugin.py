"""The pytest plugin (entry point ``pytest11``): scenario files become test items.

YAML files under a ``scenarios`` directory (or named on the command line) are
collected; each matrix cell is an item. The embedded fleet and the browser start once,
on the first item that needs them, and stop when the session ends. With
``--mic-target`` the cells run against a MIC elsewhere and no fleet starts.
"""
from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import httpx2
import pytest

from plumbing.tls import LocalTLS
from plumbing.yamlfile import YamlError

from . import baseline, coverage, expected as expected_failures, profiles, report, scenario as scenarios, target as targets
from .context import RunContext
from .fleet import EmbeddedFleet, planned_target
from .upstream import UpstreamError, VendorUpstream, load as vendor_upstream
from .runner import CellResult, Runner, StepRecord

HARNESS = pytest.StashKey["Harness"]()


class ScenarioWarning(UserWarning):
    """A warning-severity expectation did not hold: reported, not failed."""


class Harness:
    """The session's target, fleet, runner and results; the fleet starts on first use."""

    def __init__(self, config: pytest.Config) -> None:
        option = config.getoption
        self.tls = LocalTLS() if option("--mic-tls") else None
        self.external = option("--mic-target")
        if option("--mic-url") and not self.external:
            raise pytest.UsageError("--mic-url needs --mic-target FILE: the target file says which services the "
                                    "MIC has, what they can do and how to log in "
                                    f"(see {targets.EXTERNAL_EXAMPLE.name} in harness/targets)")
        try:
            self.profile = profiles.load(option("--mic-profile")) if option("--mic-profile") else None
            self.upstream = self._vendor_upstream(config)
            plan = targets.load(self.external, dict(os.environ)) if self.external else planned_target(self.upstream)
            self.plan = self._narrow(plan, config)
            listed = option("--mic-expected-failures")
            self.expected = expected_failures.load(listed) if listed else None
            self.baseline = baseline.outcomes(option("--mic-baseline")) if option("--mic-baseline") else None
        except (YamlError, KeyError, profiles.UnknownProfile, baseline.BaselineError, UpstreamError) as exc:
            raise pytest.UsageError(str(exc.args[0] if isinstance(exc, KeyError) else exc)) from None
        self._config = config
        self.fleet: EmbeddedFleet | None = None
        self._runner: Runner | None = None
        #: every cell that ran or was skipped, as results.json keeps it (xdist workers send theirs)
        self.cells: list[dict] = []
        self.comparison: baseline.Comparison | None = None
        self.started = time.perf_counter()
        self.began = datetime.now(timezone.utc)
        #: cells left out by -k or -m: a run without them is not the whole profile
        self.deselected = 0

    def _vendor_upstream(self, config: pytest.Config) -> VendorUpstream | None:
        """A vendor's server in place of the profile's mock (--mic-connector-url, --mic-connector), if any."""
        url, declaration = config.getoption("--mic-connector-url"), config.getoption("--mic-connector")
        if not (url or declaration):
            return None
        if self.external or self.profile is None:
            raise UpstreamError("--mic-connector-url and --mic-connector put a vendor's server behind the embedded "
                                "reference MIC: they need --mic-profile (a connector profile) and no --mic-target")
        return vendor_upstream(self.profile.upstream, url, declaration)

    @staticmethod
    def _narrow(target: targets.Target, config: pytest.Config) -> targets.Target:
        option = config.getoption
        return targets.narrowed(target, mic=option("--mic-url"), app_key=option("--mic-app-key"),
                                app_secret=option("--mic-app-secret"), service=option("--mic-service"))

    @property
    def target(self) -> targets.Target:
        """The target the cells run against: the external one, or the started fleet's."""
        if self.external:
            return self.plan
        self.runner  # starts the fleet
        return self._narrow(self.fleet.target, self._config)

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            report = self._config.getoption("--mic-report")
            artifacts = Path(report) / "artifacts" if report else None  # recorded traffic, failures' evidence
            if self.external:
                self._runner = Runner(self.plan, tls=self.tls, artifacts=artifacts)
            else:
                self.fleet = EmbeddedFleet(tls=self.tls, upstream=self.upstream).start()
                self._runner = Runner(self._narrow(self.fleet.target, self._config), tls=self.tls,
                                      artifacts=artifacts)
        return self._runner

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += sum(isinstance(item, ScenarioItem) for item in items)

    def facts(self) -> dict:
        """What the run was: against what (the MIC as it ran, not as planned), by which command and
        versions, how narrowed, and how long it took; results.json and a certificate carry it."""
        option = self._config.getoption
        target = self.fleet.target if self.fleet and self.fleet.target else self.plan
        target = self._narrow(target, self._config) if self.fleet else target
        facts = {
            # an xdist controller starts no fleet: its workers each ran their own on ports of their own
            "target": {"mic": target.mic if self.external or self.fleet else None,
                       "baas": target.baas if self.external or self.fleet else None, "app_key": target.app_key,
                       "embedded": not self.external,
                       "services": {s.id: s.connector for s in target.services.values()}},
            "command": masked_command(command_line(self._config)),
            "versions": versions(),
            "started": self.began.isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - self.started, 1),
            "narrowed": [text for text in (
                f"--service {option('--mic-service')}" if option("--mic-service") else None,
                f"-k {option('keyword')}" if option("keyword") else None,
                f"-m {option('markexpr')}" if option("markexpr") else None,
                f"{self.deselected} cell(s) deselected" if self.deselected else None) if text],
        }
        if self.upstream:
            plan = planned_target()
            facts["upstream"] = {"replaces": self.upstream.member, "url": self.upstream.url,
                                 "unmapped": [sid for sid in self.upstream.unmapped(plan) if not self.profile
                                              or self.profile.takes_connector(plan.services[sid].connector)]}
        return facts

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep each cell's record, whether this process ran it or an xdist worker did."""
        cell = getattr(report, "mic_cell", None)
        if cell is not None:
            self.cells.append(cell)

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
        if self.fleet is not None:
            self.fleet.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mic-harness", "MIC conformance harness")
    group.addoption("--mic-report", metavar="DIR", default=None,
                    help="write the scenario report (results.json, report.html) to DIR")
    group.addoption("--mic-tls", action="store_true", default=False,
                    help="run the embedded fleet over HTTPS (a throwaway local CA)")
    group.addoption("--mic-target", metavar="FILE", default=None,
                    help="run against the MIC this target file describes (${VARS} come from the environment) "
                         "instead of the embedded fleet")
    group.addoption("--mic-url", metavar="URL", default=None, help="the target's MIC URL, overriding its file")
    group.addoption("--mic-app-key", metavar="KEY", default=None, help="the target's app key, overriding its file")
    group.addoption("--mic-app-secret", metavar="SECRET", default=None,
                    help="the target's app secret, overriding its file (better: ${VAR} in the file)")
    group.addoption("--mic-service", metavar="ID", default=None, help="run only this auth service of the target")
    group.addoption("--mic-profile", metavar="NAME", default=None,
                    help=f"only the cells of this profile ({', '.join(profiles.available())})")
    group.addoption("--mic-connector-url", metavar="URL", default=None,
                    help="a vendor's server in place of the profile's mock upstream, behind the reference MIC")
    group.addoption("--mic-connector", metavar="FILE", default=None,
                    help="the vendor's declaration: its variables, test users and login page "
                         "(see harness/upstreams/example.yaml)")
    group.addoption("--mic-expected-failures", metavar="FILE", default=None,
                    help="known deviations: listed cells that fail are xfailed; listed cells that pass fail")
    group.addoption("--mic-baseline", metavar="RESULTS_JSON", default=None,
                    help="compare with an earlier results.json; a newly failing cell fails the run")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario: a MIC conformance scenario cell")
    config.stash[HARNESS] = Harness(config)
    config.pluginmanager.register(config.stash[HARNESS], "mic-harness-session")


def pytest_unconfigure(config: pytest.Config) -> None:
    if HARNESS in config.stash:
        config.stash[HARNESS].close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    if "scenarios" in file_path.parts or parent.session.isinitpath(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """The cell's record rides on its test report: an attribute of a report travels from an
    xdist worker to the controller with it. A skipped cell never runs; it still belongs in
    the report, with its reason; so does a cell the harness could not run at all (a fleet that
    would not start), as failed, with what stopped it."""
    result = yield
    if not isinstance(item, ScenarioItem):
        return result
    connector = item.config.stash[HARNESS].plan.services[item.cell.service].connector
    if result.when == "call" and item.record is not None:
        result.mic_cell = item.record
    elif result.when == "setup" and result.skipped:
        reason = result.longrepr[2] if isinstance(result.longrepr, tuple) else str(result.longrepr)
        result.mic_cell = report.cell_json(CellResult(item.cell, "skipped", 0.0, connector=connector,
                                                      reason=reason.removeprefix("Skipped: ")))
    elif result.failed and call.excinfo is not None and not isinstance(call.excinfo.value, ScenarioFailed):
        crash = StepRecord("harness", None, "failed", call.duration, f"the cell could not run: "
                                                                     f"{call.excinfo.exconly()[:500]}")
        result.mic_cell = report.cell_json(CellResult(item.cell, "failed", call.duration, [crash],
                                                      connector=connector))
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    harness = session.config.stash[HARNESS]
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller writes the report from what the workers sent
    if harness.baseline is not None and harness.cells:
        harness.comparison = baseline.compare(harness.baseline, {c["id"]: c["outcome"] for c in harness.cells})
        if harness.comparison.regressed:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    directory = session.config.getoption("--mic-report")
    if directory and harness.cells:
        files = sorted({Path(cell["file"]) for cell in harness.cells})
        report.write(Path(directory), harness.cells, harness.profile.name if harness.profile else None,
                     harness.facts(), coverage.as_json(coverage.measure(files)))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """Totals by outcome and the run's length, then what the baseline and expected failures say."""
    harness = config.stash[HARNESS]
    if not harness.cells:
        return
    counts: dict[str, int] = {}
    for cell in harness.cells:
        counts[cell["outcome"]] = counts.get(cell["outcome"], 0) + 1
    line = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    elapsed = time.perf_counter() - harness.started
    terminalreporter.write_sep("-", "mic-harness")
    terminalreporter.write_line(f"{len(harness.cells)} cells: {line} in {elapsed:.1f} s")
    for text in harness.comparison.lines() if harness.comparison else []:
        terminalreporter.write_line(text)
    if harness.expected is not None and getattr(config.option, "dist", "no") == "no":  # workers collect, not us
        for entry in harness.expected.unused():
            terminalreporter.write_line(f"expected failure {entry.cell!r} ({harness.expected.source}:{entry.line}) "
                                        "matched no cell")
    directory = config.getoption("--mic-report")
    if directory:
        terminalreporter.write_line(f"report written to {Path(directory) / 'report.html'}")


@pytest.fixture(scope="session")
def mic_harness(pytestconfig: pytest.Config) -> Harness:
    return pytestconfig.stash[HARNESS]


@pytest.fixture(scope="session")
def mic_fleet(mic_harness: Harness) -> EmbeddedFleet:
    """The embedded fleet (MIC, mocks, demo app), shared with the session's scenarios."""
    if mic_harness.external:
        pytest.skip("the run targets an external MIC: there is no embedded fleet")
    mic_harness.runner  # starts the fleet
    return mic_harness.fleet


@pytest.fixture(scope="session")
def mic_target(mic_harness: Harness) -> targets.Target:
    """The target the scenarios run against (URLs, app, services, test users)."""
    return mic_harness.target


@pytest.fixture(scope="session")
def mic_http(mic_harness: Harness) -> httpx2.Client:
    """An HTTP client that trusts the target (the fleet's local CA in TLS mode)."""
    return mic_harness.runner.http


@pytest.fixture
def mic_clock(mic_harness: Harness, mic_target: targets.Target, mic_http: httpx2.Client) -> "TargetClock":
    """The target's clock, moved through its control surface."""
    if not mic_target.clocks:
        pytest.skip("the target has no controllable clock")
    return TargetClock(mic_target, mic_http)


@pytest.fixture
def mic_browser_context(mic_harness: Harness, mic_target: targets.Target):
    """A fresh Playwright browser context from the session's one browser, closed after the test."""
    driver = mic_harness.runner.browsers.driver(mic_target.redirect_uri)
    yield driver.context
    driver.close()


class TargetClock:
    """The target's time for hand-written tests: read it, move it forward, set it."""

    def __init__(self, target: targets.Target, http: httpx2.Client) -> None:
        self._ctx = RunContext(target, next(iter(target.services.values())), None, http)

    def now(self) -> float:
        return self._ctx.now()

    def advance(self, seconds: float) -> None:
        self._ctx.advance_clock({"advance": seconds})

    def set(self, instant: str | float) -> None:
        self._ctx.advance_clock({"set": instant})


class ScenarioFile(pytest.File):
    """A scenario file: one collector per service it runs on, each with an item per driver, so a
    cell's id (``file.yaml::service::driver``) is also its pytest node id, to select or re-run."""

    def collect(self):
        harness = self.config.stash[HARNESS]
        scenario = scenarios.load(self.path)
        suite_path = profiles.relative_to_suite(self.path)
        by_service: dict[str, list[scenarios.Cell]] = {}
        for cell in scenarios.cells(scenario, harness.plan):
            connector = harness.plan.services[cell.service].connector
            if not harness.profile or (suite_path and harness.profile.takes(suite_path, connector)):
                by_service.setdefault(cell.service, []).append(cell)
        for service, cells in by_service.items():
            yield ServiceCells.from_parent(self, name=service, cells=cells)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, scenarios.ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ServiceCells(pytest.Collector):
    """A scenario's cells on one service, one item per driver."""

    def __init__(self, *, cells: list[scenarios.Cell], **kwargs) -> None:
        super().__init__(**kwargs)
        self.cells = cells

    def collect(self):
        harness = self.config.stash[HARNESS]
        for cell in self.cells:
            scenario = cell.scenario
            item = ScenarioItem.from_parent(self, name=cell.driver, cell=cell)
            for tag in scenario.tags:
                self.config.addinivalue_line("markers", f"{tag}: scenario tag")
                item.add_marker(tag)
            skip = scenario.skip or scenarios.unsupported(scenario, harness.plan, cell.service)
            if skip:
                item.add_marker(pytest.mark.skip(reason=skip))
            xfail = scenario.xfail or (harness.expected.reason_for(f"{cell.location}::{cell.id}")
                                       if harness.expected else None)
            if xfail:
                item.add_marker(pytest.mark.xfail(reason=xfail, strict=True, raises=ScenarioFailed))
            yield item


class ScenarioFailed(Exception):
    pass


class ScenarioItem(pytest.Item):
    def __init__(self, *, cell: scenarios.Cell, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cell = cell
        #: the cell's record (results.json form) once it has run
        self.record: dict | None = None
        self.add_marker("scenario")

    def runtest(self) -> None:
        harness = self.config.stash[HARNESS]
        result = harness.runner.run(self.cell)
        expected = self.get_closest_marker("xfail")
        if expected is not None:
            result.reason = expected.kwargs["reason"]
            result.outcome = "xfailed" if result.outcome == "failed" else "xpassed"
        self.record = report.cell_json(result)
        for step in result.steps:
            if step.outcome == "warned":
                warnings.warn(ScenarioWarning(f"{where(result, step)}: {step.message}{cited(step)}"))
        if result.failure is not None:
            raise ScenarioFailed(describe_failure(result))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"{self.cell.scenario.title} [{self.cell.id}]"


#: options whose value is a secret, masked in the command line a report shows
SECRET_OPTIONS = ("--mic-app-secret", "--app-secret")


def command_line(config: pytest.Config) -> list[str]:
    """The command as the person typed it: mic-harness's own words when it ran pytest (its
    profile expanded into files would name this machine's paths), else pytest's arguments."""
    program = Path(sys.argv[0]).name if sys.argv else ""
    if program == "mic-harness":
        return [program, *sys.argv[1:]]
    return ["pytest", *config.invocation_params.args]


def masked_command(args: tuple[str, ...] | list[str]) -> list[str]:
    """The command line as run, with the values of secret options masked."""
    shown: list[str] = []
    for arg in args:
        name, equals, _ = arg.partition("=")
        if equals and name in SECRET_OPTIONS:
            shown.append(f"{name}=***")
        elif shown and shown[-1] in SECRET_OPTIONS:
            shown.append("***")
        else:
            shown.append(arg)
    return shown


def versions() -> dict[str, str]:
    """The harness's and the reference MIC's version (one package), and what they ran on."""
    found = {"python": platform.python_version()}
    for package in ("mic-conformance", "pytest", "playwright", "authlib", "pysaml2", "ldap3"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


def where(result: CellResult, step) -> str:
    return f"{result.cell.location}:{step.line}" if step.line else result.cell.location


def cited(step) -> str:
    return f" [{step.cite}]" if step.cite else ""


def describe_failure(result: CellResult) -> str:
    failure = result.failure
    return f"{where(result, failure)}: step '{failure.name}' failed{cited(failure)}: {failure.message}"
