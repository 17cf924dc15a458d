"""Runs one matrix cell: builds its driver, runs the steps in order, records what happened.

What happened includes the cell's HTTP exchanges (masked) and, when it fails, a curl
command replaying the app's last request and the driver's evidence (a browser's
screenshot and trace) under the artifacts directory.
"""
from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from plumbing.tls import LocalTLS

from . import steps as step_plugins
from .context import Authenticator, RunContext, StepFailed, StepNotApplicable
from .curl import as_curl
from .drivers.browser import BrowserSession
from .drivers.http import HttpDriver
from .recording import APP, BROWSER, USER_AGENT, Exchange, Participants, Recorder, read_logs
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
    #: the connector type of the cell's service, for the report's tally
    connector: str | None = None
    #: the HTTP traffic of the cell, secrets masked, in the order it happened
    exchanges: list[Exchange] = field(default_factory=list)
    #: for a failure: evidence by name (screenshot, trace) -> path relative to the report directory
    artifacts: dict[str, str] = field(default_factory=dict)
    #: for a failure: a curl command replaying the app's last request, secrets left out
    curl: str | None = None

    @property
    def failure(self) -> StepRecord | None:
        return next((s for s in self.steps if s.outcome == "failed"), None)


class Runner:
    """Runs cells against one target; owns the session's browser and HTTP client.

    With ``artifacts`` (a report directory's ``artifacts/``) a report is being written:
    each cell's traffic is recorded, browser contexts are traced, and a failed cell's
    evidence is kept in a folder of its own there. Without it none of that costs anything.
    """

    def __init__(self, target: Target, browsers: BrowserSession | None = None, tls: LocalTLS | None = None,
                 artifacts: Path | None = None) -> None:
        self.target = target
        self.browsers = browsers or BrowserSession(trusted_spki=tls.spki_pin() if tls else None)
        self.artifacts = artifacts
        self._transport = httpx2.HTTPTransport(verify=tls.client_context() if tls else True)
        self._enrolled: dict[tuple[str, str], Authenticator] = {}
        self._participants = Participants(target)
        self._log_marks: dict[str, int] = {}
        self.http = httpx2.Client(transport=self._transport, timeout=10.0, headers={"User-Agent": USER_AGENT})

    def run(self, cell: Cell) -> CellResult:
        started = time.perf_counter()
        result = CellResult(cell, "passed", 0.0, connector=self.target.services[cell.service].connector)
        recorder = Recorder(self._participants) if self.artifacts is not None else None
        self.http.event_hooks = recorder.hooks(APP) if recorder else {}
        driver = ctx = None
        try:
            driver = self._driver(cell.driver, recorder)
            ctx = RunContext(self.target, self.target.services[cell.service], driver, self.http,
                             vars={"app_key": self.target.app_key, "app_redirect": self.target.redirect_uri},
                             enrolled=self._enrolled)
            self._run_steps(cell, ctx, result)
        except StepFailed as exc:
            result.outcome = "failed"
            result.steps.append(StepRecord("setup", None, "failed", 0.0, str(exc)))
        finally:
            if driver is not None:
                if recorder and result.outcome == "failed":
                    result.artifacts = self._keep_evidence(cell, driver)
                driver.close()
            self.http.event_hooks = {}
            self._clear_faults(ctx.armed if ctx else set())
            if ctx is not None:
                self._restore_clocks(ctx)
            if recorder:
                result.exchanges = recorder.finish(self._back_channel(cell))
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
                if step.reaches_upstream(spec.args, ctx.service):
                    ctx.before_upstream()
                step.run(ctx)
                result.steps.append(StepRecord(spec.name, spec.line, "passed", time.perf_counter() - began))
            except StepNotApplicable as exc:
                result.steps.append(StepRecord(spec.name, spec.line, "skipped", time.perf_counter() - began,
                                               f"not applicable: {exc}"))
            except StepFailed as exc:
                warning = exc.severity == "warning"
                if not warning:
                    result.outcome = "failed"
                    result.curl = as_curl(ctx.reply.request) if ctx.reply and ctx.reply.request else None
                elif result.outcome == "passed":
                    result.outcome = "warned"
                result.steps.append(StepRecord(spec.name, spec.line, "warned" if warning else "failed",
                                               time.perf_counter() - began, str(exc), exc.cite))

    def _driver(self, name: str, recorder: Recorder | None):
        if name == "browser":
            return self.browsers.driver(self.target.redirect_uri, recorder, trace=recorder is not None)
        return HttpDriver(self.target.redirect_uri, self._transport,
                          hooks=recorder.hooks(BROWSER) if recorder else None)

    def _back_channel(self, cell: Cell) -> dict[str, list[dict]]:
        """What the cell's identity provider received from the MIC: one read of its request log."""
        upstream = self.target.services[cell.service].upstream
        return read_logs(self.http, self._participants, self._log_marks, [upstream] if upstream else [])

    def _keep_evidence(self, cell: Cell, driver) -> dict[str, str]:
        """The driver's evidence in the cell's own folder, named relative to the report directory."""
        folder = self.artifacts / re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{cell.location}::{cell.id}").strip("-")
        shutil.rmtree(folder, ignore_errors=True)  # an earlier run's evidence would mislead
        return {name: path.relative_to(self.artifacts.parent).as_posix()
                for name, path in driver.evidence(folder).items()}

    def _restore_clocks(self, ctx: RunContext) -> None:
        """No move of a clock by one cell may leak into the next (a vendor's real clock would not follow)."""
        try:
            ctx.restore_clocks()
        except httpx2.HTTPError:
            pass

    def _clear_faults(self, surfaces: set[str]) -> None:
        """No fault armed by one cell may leak into the next."""
        for url in surfaces:
            try:
                self.http.delete(f"{url}/_control/faults")
            except httpx2.HTTPError:
                pass
