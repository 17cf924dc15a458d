"""Runs one matrix cell: builds its driver, runs the steps in order, records what happened."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx2

from plumbing.tls import LocalTLS

from . import steps as step_plugins
from .context import Authenticator, RunContext, StepFailed
from .drivers.browser import BrowserSession
from .drivers.http import HttpDriver
from .scenario import Cell
from .target import Target


@dataclass
class StepRecord:
    name: str
    line: int | None
    outcome: str  # passed, failed, warned (a warning-severity expectation did not hold), skipped
    seconds: float
    message: str = ""
    cite: str | None = None


@dataclass
class CellResult:
    cell: Cell
    #: passed, warned (passed, with warnings) or failed as run; the plugin may turn it into
    #: xfailed / xpassed (an expected failure that failed / passed) or skipped
    outcome: str
    seconds: float
    steps: list[StepRecord] = field(default_factory=list)
    #: why the cell was expected to fail (xfail mark or expected-failures file), or skipped
    reason: str | None = None

    @property
    def failure(self) -> StepRecord | None:
        return next((s for s in self.steps if s.outcome == "failed"), None)


class Runner:
    """Runs cells against one target; owns the session's browser and HTTP client."""

    def __init__(self, target: Target, browsers: BrowserSession | None = None, tls: LocalTLS | None = None) -> None:
        self.target = target
        self.browsers = browsers or BrowserSession(trusted_spki=tls.spki_pin() if tls else None)
        self._transport = httpx2.HTTPTransport(verify=tls.client_context() if tls else True)
        self._enrolled: dict[tuple[str, str], Authenticator] = {}
        self.http = httpx2.Client(transport=self._transport, timeout=10.0)

    def run(self, cell: Cell) -> CellResult:
        started = time.perf_counter()
        result = CellResult(cell, "passed", 0.0)
        driver = None
        try:
            driver = self._driver(cell.driver)
            ctx = RunContext(self.target, self.target.services[cell.service], driver, self.http,
                             vars={"app_key": self.target.app_key, "app_redirect": self.target.redirect_uri},
                             enrolled=self._enrolled)
            self._run_steps(cell, ctx, result)
        except StepFailed as exc:
            result.outcome = "failed"
            result.steps.append(StepRecord("setup", None, "failed", 0.0, str(exc)))
        finally:
            if driver is not None:
                driver.close()
            self._clear_faults()
            result.seconds = time.perf_counter() - started
        return result

    def close(self) -> None:
        self.browsers.close()
        self.http.close()

    def _run_steps(self, cell: Cell, ctx: RunContext, result: CellResult) -> None:
        registry = step_plugins.registry()
        steps = [registry[spec.name](spec.args) for spec in cell.scenario.steps]
        for step in steps:
            step.prepare(ctx)
        for spec, step in zip(cell.scenario.steps, steps):
            if result.outcome == "failed":
                result.steps.append(StepRecord(spec.name, spec.line, "skipped", 0.0))
                continue
            began = time.perf_counter()
            try:
                step.run(ctx)
                result.steps.append(StepRecord(spec.name, spec.line, "passed", time.perf_counter() - began))
            except StepFailed as exc:
                warning = exc.severity == "warning"
                if not warning:
                    result.outcome = "failed"
                elif result.outcome == "passed":
                    result.outcome = "warned"
                result.steps.append(StepRecord(spec.name, spec.line, "warned" if warning else "failed",
                                               time.perf_counter() - began, str(exc), exc.cite))

    def _driver(self, name: str):
        if name == "browser":
            return self.browsers.driver(self.target.redirect_uri)
        return HttpDriver(self.target.redirect_uri, self._transport)

    def _clear_faults(self) -> None:
        """No fault armed by one cell may leak into the next."""
        for url in self.target.surfaces.values():
            try:
                self.http.delete(f"{url}/_control/faults")
            except httpx2.HTTPError:
                pass
