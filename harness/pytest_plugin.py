"""The pytest plugin (entry point ``pytest11``): scenario files become test items.

YAML files under a ``scenarios`` directory (or named on the command line) are
collected; each matrix cell is an item. The embedded fleet and the browser start once,
on the first item that needs them, and stop when the session ends.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from plumbing.tls import LocalTLS

from . import report, scenario as scenarios
from .fleet import EmbeddedFleet, planned_target
from .runner import CellResult, Runner

HARNESS = pytest.StashKey["Harness"]()


class Harness:
    """The session's fleet, runner and results; the fleet starts on first use."""

    def __init__(self, tls: bool = False) -> None:
        self.tls = LocalTLS() if tls else None
        self.fleet: EmbeddedFleet | None = None
        self._runner: Runner | None = None
        self.results: list[CellResult] = []

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            self.fleet = EmbeddedFleet(tls=self.tls).start()
            self._runner = Runner(self.fleet.target, tls=self.tls)
        return self._runner

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


def pytest_configure(config: pytest.Config) -> None:
    config.stash[HARNESS] = Harness(tls=config.getoption("--mic-tls"))
    config.addinivalue_line("markers", "scenario: a MIC conformance scenario cell")


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[HARNESS].close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    directory = session.config.getoption("--mic-report")
    harness = session.config.stash[HARNESS]
    if directory and harness.results:
        written = report.write(Path(directory), harness.results)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"mic-harness: report written to {written}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    if "scenarios" in file_path.parts or parent.session.isinitpath(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def mic_fleet(pytestconfig: pytest.Config) -> EmbeddedFleet:
    """The embedded fleet (MIC, mocks, demo app), shared with the session's scenarios."""
    harness = pytestconfig.stash[HARNESS]
    harness.runner  # starts the fleet
    return harness.fleet


class ScenarioFile(pytest.File):
    def collect(self):
        scenario = scenarios.load(self.path)
        for cell in scenarios.cells(scenario, planned_target()):
            item = ScenarioItem.from_parent(self, name=cell.id, cell=cell)
            for tag in scenario.tags:
                item.add_marker(tag)
            yield item

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, scenarios.ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class ScenarioFailed(Exception):
    pass


class ScenarioItem(pytest.Item):
    def __init__(self, *, cell: scenarios.Cell, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cell = cell
        self.add_marker("scenario")

    def runtest(self) -> None:
        harness = self.config.stash[HARNESS]
        result = harness.runner.run(self.cell)
        harness.results.append(result)
        if result.outcome != "passed":
            raise ScenarioFailed(describe_failure(result))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.cell.scenario.title} [{self.cell.id}]"


def describe_failure(result: CellResult) -> str:
    failure = result.failure
    where = f"{result.cell.location}:{failure.line}" if failure.line else result.cell.location
    cite = f" [{failure.cite}]" if failure.cite else ""
    return f"{where}: step '{failure.name}' failed{cite}: {failure.message}"
