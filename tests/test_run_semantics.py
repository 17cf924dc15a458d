"""How a run judges cells: skip and xfail, tags as marks, warnings, expected-failures files,
baselines, profiles, external targets, and the fixtures hand-written tests get."""
import json
import textwrap

import pytest

from harness import baseline

PASSES = """\
scenario: Password grant works
needs: [password-grant]
steps:
  - token: {grant: password, user: alice}
  - expect: {status: 200}
"""
FAILS = PASSES.replace("works", "is expected to teapot").replace("{status: 200}", "{status: 418}")
ONE_SERVICE = ("--mic-service", "oauth2-password")


@pytest.fixture
def suite(pytester):
    directory = pytester.mkdir("scenarios")

    def write(name: str, text: str) -> str:
        (directory / name).write_text(textwrap.dedent(text))
        return f"scenarios/{name}::oauth2-password::http"
    return write


def results(pytester) -> dict[str, dict]:
    data = json.loads((pytester.path / "report" / "results.json").read_text())
    return {r["id"]: r for r in data["results"]}


def run(pytester, *args):
    return pytester.runpytest("scenarios", *ONE_SERVICE, "--mic-report", "report", "-rxXs", *args)


def test_xfail_and_skip_come_from_the_file_with_their_reasons(pytester, suite):
    failing = suite("known.yaml", FAILS + "xfail: the MIC cannot brew\n")
    skipped = suite("later.yaml", PASSES + "skip: waits for the LDAP connector\n")
    outcome = run(pytester)
    outcome.assert_outcomes(xfailed=1, skipped=1)
    outcome.stdout.fnmatch_lines(["*XFAIL*known.yaml*the MIC cannot brew*", "*SKIP*waits for the LDAP connector*"])
    recorded = results(pytester)
    assert recorded[failing]["outcome"] == "xfailed" and recorded[failing]["reason"] == "the MIC cannot brew"
    assert recorded[skipped]["outcome"] == "skipped" and recorded[skipped]["reason"] == "waits for the LDAP connector"


def test_an_xfail_that_passes_fails_the_run(pytester, suite):
    cell = suite("fixed.yaml", PASSES + "xfail: was broken once\n")
    outcome = run(pytester)
    outcome.assert_outcomes(failed=1)
    assert outcome.ret == 1
    assert results(pytester)[cell]["outcome"] == "xpassed"


def test_tags_are_marks_that_select_cells(pytester, suite):
    suite("tagged.yaml", PASSES + "tags: [security, slow_path]\n")
    suite("plain.yaml", PASSES)
    outcome = run(pytester, "-m", "security", "--strict-markers", "-v")
    outcome.assert_outcomes(passed=1, deselected=1)
    outcome.stdout.fnmatch_lines(["*tagged.yaml::oauth2-password::http PASSED*"])


def test_a_warning_is_reported_with_its_citation_and_does_not_fail(pytester, suite):
    cell = suite("warns.yaml", PASSES.replace("{status: 200}", "{status: 200}\n  - expect: {headers: {Content-Language: "
                                                               "en-GB}, severity: warning, cite: I18N-1}"))
    outcome = run(pytester)
    outcome.assert_outcomes(passed=1, warnings=1)
    outcome.stdout.fnmatch_lines(["*ScenarioWarning: scenarios/warns.yaml:6: header Content-Language*[I18N-1]*"])
    recorded = results(pytester)[cell]
    assert recorded["outcome"] == "warned"
    assert [s["outcome"] for s in recorded["steps"]] == ["passed", "passed", "warned"]


def test_the_expected_failures_file_excuses_listed_failures_and_refuses_stale_entries(pytester, suite):
    failing = suite("teapot.yaml", FAILS)
    passing = suite("fine.yaml", PASSES)
    (pytester.path / "known.yaml").write_text(
        "- cell: '*/teapot.yaml::*'\n  reason: ticket 42\n"
        "- cell: '*/gone.yaml::*'\n  reason: removed long ago\n")
    outcome = run(pytester, "--mic-expected-failures", "known.yaml")
    outcome.assert_outcomes(passed=1, xfailed=1)
    assert outcome.ret == 0
    outcome.stdout.fnmatch_lines(["*expected failure '*/gone.yaml::*' (known.yaml:3) matched no cell*"])
    assert results(pytester)[failing]["reason"] == "ticket 42 (known.yaml:1)"
    (pytester.path / "known.yaml").write_text("- cell: '*/fine.yaml::*'\n  reason: thought broken\n")
    outcome = run(pytester, "--mic-expected-failures", "known.yaml")
    assert outcome.ret == 1
    assert results(pytester)[passing]["outcome"] == "xpassed"


@pytest.mark.parametrize("option, name, text, complaint", [
    ("--mic-expected-failures", "known.yaml", "- cell: '*'\n", "*known.yaml:1:*missing 'reason'*"),
    ("--mic-baseline", "before.json", "[]", "*before.json: not a results.json written by mic-harness*"),
])
def test_a_broken_side_file_is_a_usage_error(pytester, suite, option, name, text, complaint):
    suite("fine.yaml", PASSES)
    (pytester.path / name).write_text(text)
    outcome = run(pytester, option, name)
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines([complaint])


def test_a_baseline_gates_on_newly_failing_cells(pytester, suite):
    flaky = suite("flaky.yaml", PASSES)
    run(pytester).assert_outcomes(passed=1)
    (pytester.path / "before.json").write_text((pytester.path / "report" / "results.json").read_text())
    suite("flaky.yaml", FAILS + "xfail: known now\n")
    suite("new.yaml", PASSES)
    outcome = run(pytester, "--mic-baseline", "before.json")
    assert outcome.ret == 0  # an xfail is not a regression
    suite("flaky.yaml", FAILS)
    outcome = run(pytester, "--mic-baseline", "before.json")
    assert outcome.ret == 1
    outcome.stdout.fnmatch_lines(["*1 newly failing, 0 newly passing, 0 vanished, 1 new*",
                                  f"*newly failing: {flaky}*"])


def test_comparing_results():
    before = {"a": "passed", "b": "failed", "c": "passed", "d": "skipped"}
    now = {"a": "failed", "b": "passed", "d": "passed", "e": "failed", "f": "passed"}
    comparison = baseline.compare(before, now)
    assert comparison.newly_failing == ["a"] and comparison.newly_passing == ["b"]
    assert comparison.vanished == ["c"] and comparison.added == ["e", "f"] and comparison.added_failing == ["e"]
    assert comparison.regressed
    assert not baseline.compare({"a": "failed"}, {"a": "failed"}).regressed


def test_a_profile_keeps_only_its_scenarios_and_connectors(pytester):
    outcome = pytester.runpytest(str(pytester.path), "--mic-profile", "nothing-such")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*no profile 'nothing-such' (profiles: *mic-core*)*"])


def test_an_external_target_runs_what_it_can_and_skips_what_needs_control(pytester, suite, fleet, monkeypatch):
    """The fleet here stands in for a MIC elsewhere: the target file gives it no control surface."""
    target = fleet.target
    (pytester.path / "target.yaml").write_text(textwrap.dedent(f"""\
        mic: {target.mic}
        app: {{key: {target.app_key}, secret: "${{APP_SECRET}}", redirect_uri: {target.redirect_uri}}}
        users: {{alice: {{password: "${{ALICE_PASSWORD}}"}}}}
        services:
          oauth2-password: {{connector: oauth2, capabilities: [password-grant], login: mic-login}}
        recipes:
          mic-login: {{username: username, password: password, submit: "#submit"}}
        """))
    monkeypatch.setenv("APP_SECRET", target.app_secret)
    monkeypatch.setenv("ALICE_PASSWORD", target.password_of("alice"))
    works = suite("works.yaml", PASSES)
    later = suite("later.yaml", PASSES.replace("  - expect", "  - clock: {advance: 5}\n  - expect"))
    outcome = run(pytester, "--mic-target", "target.yaml")
    outcome.assert_outcomes(passed=1, skipped=1)
    recorded = results(pytester)
    assert recorded[works]["outcome"] == "passed"
    assert "needs a controllable clock" in recorded[later]["reason"]


def test_mic_url_alone_is_refused_with_what_to_give(pytester):
    outcome = pytester.runpytest("--mic-url", "https://mic.example.com")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*--mic-url needs --mic-target FILE*external-example.yaml*"])


def test_hand_written_tests_get_the_target_clock_http_and_a_browser(pytester):
    pytester.makepyfile(test_mine="""
        def test_clock_moves(mic_clock):
            before = mic_clock.now()
            mic_clock.advance(3600)
            assert mic_clock.now() - before >= 3600

        def test_http_reaches_the_mic(mic_http, mic_target):
            assert mic_http.get(mic_target.mic + "/_control/health").status_code == 200

        def test_browser_context_is_fresh(mic_browser_context, mic_target):
            assert mic_browser_context.cookies() == []
            page = mic_browser_context.new_page()
            page.goto(mic_target.mic + "/_control/health")
            assert "ok" in page.content()
    """)
    pytester.runpytest("test_mine.py").assert_outcomes(passed=3)
