"""Every cell starts from the same state: the same verdicts in order, shuffled, and a cell run twice.

The identity provider here is the mock OpenID provider served on a clock of its own that
nothing moves, as a vendor's server would be: the MIC checks its id_tokens on the MIC's
clock, so a cell that left the MIC's clock moved (a TTL scenario moves it by days) would
spoil every later login, and a cell that moves it before logging in upstream again is
not applicable there.
"""
import random
import socket
import time
from pathlib import Path

import pytest

from harness import scenario as scenarios
from harness.fleet import EmbeddedFleet
from harness.runner import Runner
from harness.upstream import VendorUpstream
from mock_idps import oidc as oidc_idp
from plumbing.clock import SystemClock
from plumbing.fleet import Fleet

ROOT = Path(__file__).resolve().parent.parent
#: every bundled scenario with HTTP cells on the OpenID Connect service, but the slow fuzzing ones
FILES = ["ttl/*.yaml", "refresh/*.yaml", "sso/*.yaml", "baas/*.yaml", "durability/*.yaml", "selection/*.yaml",
         "security/pkce.yaml", "security/redirect-uri.yaml", "security/tampered-artifacts.yaml"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def runner():
    mic_port = _free_port()
    vendor = Fleet()
    vendor.add("oidc", lambda urls: oidc_idp.create_app(
        clock=SystemClock(), variables={"MIC": f"http://127.0.0.1:{mic_port}", "APP": "http://app.invalid"}))
    url = vendor.start()["oidc"]
    fleet = EmbeddedFleet(upstream=VendorUpstream(member="oidc-idp", url=url, mic_port=mic_port)).start()
    started = Runner(fleet.target)
    yield started
    started.close()
    fleet.stop()
    vendor.stop()


@pytest.fixture(scope="module")
def cells(runner):
    found = [cell for pattern in FILES for path in sorted((ROOT / "scenarios").glob(pattern))
             for cell in scenarios.cells(scenarios.load(path), runner.target)
             if cell.driver == "http" and cell.service == "oidc-code"
             and scenarios.unsupported(cell.scenario, runner.target, cell.service) is None]
    moving = [c for c in found if any(s.name == "clock" for s in c.scenario.steps)]
    assert len(found) >= 8 and moving, "the sample must hold cells that move the clock and cells that log in"
    return found


def _verdicts(runner, cells) -> dict[str, str]:
    return {f"{cell.location}::{cell.id}": runner.run(cell).outcome for cell in cells}


def test_verdicts_are_the_same_in_order_shuffled_and_twice(runner, cells):
    in_order = _verdicts(runner, cells)
    assert set(in_order.values()) == {"passed"}, {k: v for k, v in in_order.items() if v != "passed"}
    shuffled = list(cells)
    random.Random(2026).shuffle(shuffled)
    assert _verdicts(runner, shuffled) == in_order
    for cell in (cells[0], next(c for c in cells if any(s.name == "clock" for s in c.scenario.steps))):
        assert runner.run(cell).outcome == runner.run(cell).outcome == "passed", cell.location


def test_a_cell_puts_back_the_clock_it_moved(runner, cells):
    moving = next(c for c in cells if any(s.name == "clock" for s in c.scenario.steps))
    assert runner.run(moving).outcome == "passed"
    mic = runner.http.get(f"{runner.target.surfaces['mic']}/_control/clock").json()["now"]
    assert abs(mic - time.time()) < 5  # back where a clock that was never moved would be


def test_moving_the_clock_before_logging_in_upstream_again_is_not_applicable_on_a_real_clock(runner):
    scenario = scenarios.load(ROOT / "scenarios/ttl/refresh.yaml")
    reason = scenarios.unsupported(scenario, runner.target, "oidc-code")
    assert reason and reason.startswith(scenarios.UNCONTROLLED_UPSTREAM) and "moves the MIC's clock" in reason


def _one_cell(runner, tmp_path, text: str):
    path = tmp_path / "case.yaml"
    path.write_text(text)
    cell, = [c for c in scenarios.cells(scenarios.load(path), runner.target)
             if c.service == "oidc-code" and c.driver == "http"]
    assert scenarios.unsupported(cell.scenario, runner.target, cell.service) is None  # the cell runs
    return runner.run(cell)


LOGIN = """\
scenario: s
needs: [authorization-code]
steps:
  - authorize: {}
  - login: {user: alice}
  - token: {grant: authorization_code}
"""


def test_a_request_log_check_on_a_vendors_server_is_not_applicable_alone(runner, tmp_path):
    result = _one_cell(runner, tmp_path, LOGIN + "  - expect: {status: 200, requests: {server: upstream, "
                                                 "path: /token, method: POST}}\n  - expect: {present: [access_token]}\n")
    assert result.outcome == "passed"
    assert [s.outcome for s in result.steps] == ["passed", "passed", "passed", "skipped", "passed"]
    assert result.steps[3].message.startswith("not applicable: the request log of upstream cannot be read")
    # the step's other checks still count
    result = _one_cell(runner, tmp_path, LOGIN + "  - expect: {status: 401, requests: {server: upstream, "
                                                 "path: /token}}\n")
    assert result.outcome == "failed" and "status: expected 401, got 200" in result.failure.message
