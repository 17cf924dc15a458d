"""The mic-harness command: run exits non-zero on a failure and writes a report; serve serves."""
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2

from harness.fleet import planned_target

PASSING = """\
scenario: Password grant works
needs: [password-grant]
steps:
  - token: {grant: password, user: alice}
  - expect: {status: 200}
"""
FAILING = PASSING.replace("scenario: Password grant works", "scenario: Expects the wrong status").replace(
    "status: 200", "status: 418, cite: RFC2324-2.3.2")


MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))
#: the cells a password-grant scenario expands to: one per service of the embedded target that can
PASSWORD_CELLS = sum("password-grant" in s.capabilities for s in planned_target().services.values())


def run(tmp_path, *files, options=()):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name, text in files:
        (scenarios / name).write_text(text)
    return subprocess.run([MIC_HARNESS, "run", str(scenarios), "--report", str(tmp_path / "report"), *options],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_run_passes_and_writes_the_report(tmp_path):
    done = run(tmp_path, ("ok.yaml", PASSING))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"ok\.yaml::oauth2-password::http PASSED", done.stdout)
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert PASSWORD_CELLS >= 4  # OAuth2's two and the directories' two (LDAP, AD) at least
    assert results["summary"] == {"total": PASSWORD_CELLS, "passed": PASSWORD_CELLS, "failed": 0}
    assert (tmp_path / "report" / "junit.xml").exists()
    assert "Password grant works" in (tmp_path / "report" / "report.html").read_text()


def test_run_exits_non_zero_when_a_scenario_fails_and_says_why(tmp_path):
    done = run(tmp_path, ("ok.yaml", PASSING), ("bad.yaml", FAILING))
    assert done.returncode == 1
    assert "step 'expect' failed [RFC2324-2.3.2]: status: expected 418, got 200" in done.stdout
    assert "wonderland" not in done.stdout and "demo-app-secret" not in done.stdout
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["summary"] == {"total": 2 * PASSWORD_CELLS, "passed": PASSWORD_CELLS, "failed": PASSWORD_CELLS}


def test_pytest_options_pass_through_run_and_x_stops_at_the_first_failure(tmp_path):
    done = run(tmp_path, ("a-bad.yaml", FAILING), ("ok.yaml", PASSING), options=("-x", "--durations", "3", "-q"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "unrecognized arguments" not in done.stderr
    assert "stopping after 1 failures" in done.stdout and "slowest 3 durations" in done.stdout
    assert json.loads((tmp_path / "report" / "results.json").read_text())["summary"]["total"] == 1


def test_certify_refuses_options_that_would_narrow_it_silently():
    done = subprocess.run([MIC_HARNESS, "certify", "--profile", "mic-core", "-x"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "unrecognized arguments: -x" in done.stderr


def test_serve_prints_the_table_its_urls_answer_and_ctrl_c_stops_it():
    process = subprocess.Popen([MIC_HARNESS, "serve"], stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Serving"):
                break
        table = "".join(lines)
        for heading in ("Servers", "Demo apps", "Auth services", "Test users"):
            assert heading in table
        assert "kid_demo" in table and "alice" in table and "wonderland" in table
        assert "kid_second" in table and "second-app-secret" in table  # the peer apps too
        servers = dict(re.findall(r"^(mic|oauth2-idp|app)\s+(http://127\.0\.0\.1:\d+)", table, re.M))
        assert {"mic", "oauth2-idp", "app"} <= set(servers)
        assert httpx2.get(servers["mic"] + "/_control/clock").status_code == 200
        assert httpx2.get(servers["oauth2-idp"] + "/").json()["provider"] == "mock-oauth2"
        try_it = re.search(r"(http://\S+/v3/oauth/auth\?\S+)", table).group(1)
        assert httpx2.get(try_it).status_code == 302
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Stopped." in process.stdout.read()
    finally:
        process.kill()
