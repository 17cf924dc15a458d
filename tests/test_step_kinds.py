"""Step kinds beyond the basic flow: tamper, refresh and expectations on the request logs."""
import base64
import json
import textwrap

import pytest

from harness import scenario as scenarios
from harness.runner import Runner
from harness.tampering import MUTATIONS, NotApplicable

JWT = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
               for part in ({"alg": "RS256", "kid": "k1"}, {"sub": "alice"})) + ".c2lnbmF0dXJl"


@pytest.fixture
def run_cell(fleet, tmp_path):
    """Run a scenario's cell on the ``oauth2-code`` service (or the one named) and return its result."""
    runner = Runner(fleet.target)

    def run(text: str, service: str = "oauth2-code"):
        path = tmp_path / "case.yaml"
        path.write_text(textwrap.dedent(text))
        cell, = [c for c in scenarios.cells(scenarios.load(path), fleet.target) if c.service == service]
        return runner.run(cell)
    yield run
    runner.close()


LOGGED_IN = """\
scenario: s
needs: [authorization-code, refresh]
steps:
  - authorize: {}
  - login: {user: alice}
  - token: {grant: authorization_code}
  - expect: {status: 200}
"""


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_mutation_changes_what_it_is_given(name):
    forged = MUTATIONS[name](JWT)
    assert forged != JWT


def test_jwt_mutations_forge_what_an_attacker_would():
    header, payload, signature = MUTATIONS["jwt-alg-none"](JWT).split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "none", "typ": "JWT"}
    assert payload == JWT.split(".")[1] and signature == ""
    assert MUTATIONS["jwt-strip-signature"](JWT) == JWT.rsplit(".", 1)[0] + "."
    with pytest.raises(NotApplicable):
        MUTATIONS["jwt-alg-none"]("opaque-token")


def test_a_tampered_refresh_token_is_refused_and_the_genuine_one_still_works(run_cell):
    result = run_cell(LOGGED_IN + """\
  - expect: {save: {genuine: json.refresh_token}}
  - tamper: {value: refresh_token, mutation: flip-last-char}
  - refresh: {}
  - expect: {status: 400, json: {error: invalid_grant}}
  - refresh: {refresh_token: "{{ genuine }}"}
  - expect: {status: 200}
""")
    assert result.outcome == "passed", result.failure


def test_tampering_with_nothing_captured_says_what_there_is(run_cell):
    result = run_cell(LOGGED_IN + "  - tamper: {value: id_token, mutation: truncate}\n")
    assert result.outcome == "failed"
    assert "no value named 'id_token' was captured" in result.failure.message
    assert "access_token" in result.failure.message


def test_a_jwt_mutation_on_an_opaque_token_fails_the_step_plainly(run_cell):
    result = run_cell(LOGGED_IN + "  - tamper: {value: access_token, mutation: jwt-alg-none}\n")
    assert result.outcome == "failed"
    assert "jwt-alg-none does not apply to 'access_token'" in result.failure.message


def test_the_refresh_step_speaks_as_the_sdks_do(run_cell):
    result = run_cell(LOGGED_IN + """\
  - refresh: {}
  - expect:
      status: 200
      requests: {server: mic, method: POST, path: /oauth/token, form: {redirect_uri: undefined,
                 grant_type: refresh_token}, status: 200, count: 1}
""")
    assert result.outcome == "passed", result.failure


def test_request_log_expectations_count_only_this_cells_requests(run_cell):
    first = run_cell(LOGGED_IN + """\
  - expect: {requests: {server: upstream, method: POST, path: /oauth/token, count: 1}}
""")
    assert first.outcome == "passed", first.failure
    second = run_cell(LOGGED_IN + """\
  - expect:
      requests: {server: upstream, method: POST, path: /oauth/token, form: {grant_type: refresh_token}, at_least: 1}
      cite: RFC6749-6
""")
    assert second.outcome == "failed"
    assert second.failure.message == ("requests: expected at least 1 × POST /oauth/token at upstream with "
                                      "{'grant_type': 'refresh_token'}, the log shows 0")
    assert second.failure.cite == "RFC6749-6"


def test_a_request_expectation_on_an_unknown_server_names_the_known_ones(run_cell):
    result = run_cell(LOGGED_IN + "  - expect: {requests: {server: nowhere, path: /}}\n")
    assert result.outcome == "failed"
    assert "no control surface for 'nowhere' (it has: mic, oauth2-idp, " in result.failure.message


def test_mentions_and_lacks_read_only_what_was_seen_last(run_cell):
    # the token answer came after the login page: only it is read
    seen_last = LOGGED_IN + "  - expect: {mentions: [bearer], lacks: [Sign in]}\n"
    assert run_cell(seen_last).outcome == "passed"
    page_then_answer = """\
scenario: s
needs: [authorization-code]
steps:
  - authorize: {}
  - expect: {mentions: [sign in]}
  - token: {grant: refresh_token, refresh_token: nothing-like-one}
  - expect: {mentions: [sign in]}
"""
    result = run_cell(page_then_answer)
    assert result.outcome == "failed" and result.failure.line == 7  # the second expect
    assert "expected 'sign in' to be mentioned" in result.failure.message
    leaked = LOGGED_IN + "  - expect: {lacks: [access_token]}\n"
    result = run_cell(leaked)
    assert result.outcome == "failed" and "'access_token' should not be shown, but is" in result.failure.message
