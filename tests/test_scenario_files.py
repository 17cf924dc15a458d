"""Scenario files: precise errors before anything runs, and the matrix they expand to."""
import textwrap

import pytest

from harness import scenario as scenarios
from harness.fleet import planned_target
from plumbing.yamlfile import YamlError

GOOD = """\
scenario: Password grant
needs: [password-grant]
steps:
  - token: {grant: password, user: alice}
  - expect: {status: 200}
"""


def write(tmp_path, text):
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("text, line, message", [
    ("scenario: x\nneeds: [password-grant]\nsteps:\n  - token: {grant: password\n  - expect: {status: 200}\n",
     5, "YAML syntax error"),
    ("scenario: x\nneeds: [password-grant]\nsteps:\n  - token: {grant: password, usr: alice}\n",
     4, "unknown key 'usr' in steps[0].token"),
    ("scenario: x\nneeds: [password-grant]\nsteps:\n  - tokn: {grant: password}\n", 4, "unknown step 'tokn'"),
    ("scenario: x\nneeds: [password-grant]\nsteps:\n  - expect: {status: '200'}\n", 4, "is not of type 'integer'"),
    ("scenario: x\nneeds: [teleport]\nsteps:\n  - expect: {status: 200}\n", 2, "needs[0]"),
    ("scenario: x\nscenario: y\nneeds: [password-grant]\nsteps: []\n", 2, "duplicate key 'scenario'"),
    ("scenario: x\nneeds: [password-grant]\nstep:\n  - expect: {status: 200}\n", 3, "unknown key 'step'"),
    ("scenario: x\nneeds: [password-grant]\n", 1, "missing 'steps'"),
    ("", 1, "the file is empty"),
    ("scenario: x\nneeds: [password-grant]\nsteps:\n  - fault: {on: upstream, path: /t, status: 500}\n",
     4, "YAML reads on/off/yes/no as true/false"),
])
def test_each_mistake_names_file_line_and_what_was_expected(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(YamlError) as raised:
        scenarios.load(path)
    assert raised.value.source == str(path)
    assert raised.value.line == line
    assert message in raised.value.message
    assert str(raised.value).startswith(f"{path}:{line}:")


def test_a_good_file_loads_with_step_lines(tmp_path):
    scenario = scenarios.load(write(tmp_path, GOOD))
    assert [(s.name, s.line) for s in scenario.steps] == [("token", 4), ("expect", 5)]
    assert scenario.drivers == ("http",)


def test_the_matrix_has_a_cell_per_capable_service_and_driver(tmp_path):
    scenario = scenarios.load(write(tmp_path, GOOD.replace("steps:", "drivers: [http, browser]\nsteps:")))
    assert [c.id for c in scenarios.cells(scenario, planned_target())] == [
        "oauth2-password::http", "oauth2-password::browser", "hosted-login::http", "hosted-login::browser",
        "saml-wrap::http", "saml-wrap::browser", "ldap-password::http", "ldap-password::browser",
        "ad-password::http", "ad-password::browser", "flexauth-password::http", "flexauth-password::browser"]


def test_pytest_reports_a_broken_file_without_a_traceback(pytester):
    scenarios_dir = pytester.mkdir("scenarios")
    (scenarios_dir / "broken.yaml").write_text("scenario: x\nneeds: [password-grant]\nsteps:\n  - token: {grant: [\n")
    result = pytester.runpytest("scenarios")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*scenarios/broken.yaml:*: YAML syntax error*"])
    assert "Traceback" not in result.stdout.str()


def test_hand_written_tests_share_the_fleet_with_scenarios(pytester):
    pytester.makepyfile(test_mine="""
        import httpx2

        def test_mic_answers(mic_fleet):
            assert httpx2.get(mic_fleet.target.mic + "/_control/clock").status_code == 200
            assert {"mic", "oauth2-idp", "app", "supervisor"} <= set(mic_fleet.urls)
    """)
    scenarios_dir = pytester.mkdir("scenarios")
    (scenarios_dir / "password.yaml").write_text(
        "scenario: p\nneeds: [password-grant]\nsteps:\n  - token: {grant: password, user: alice}\n"
        "  - expect: {status: 200}\n")
    result = pytester.runpytest("-v", "test_mine.py", "scenarios")
    result.assert_outcomes(passed=7)  # the test, and the scenario on six password-grant services
    result.stdout.fnmatch_lines(["*scenarios/password.yaml::oauth2-password::http PASSED*"])
