"""The embedded fleet's supervisor: a restart really replaces the MIC, and only what may restart does."""
import httpx2


def test_a_restart_serves_a_fresh_mic_on_the_same_port(fleet):
    before = fleet.fleet.app("mic")
    answer = httpx2.post(f"{fleet.target.supervisor}/_control/restart/mic")
    assert answer.status_code == 200 and answer.json() == {"restarted": "mic"}
    assert fleet.fleet.app("mic") is not before
    assert httpx2.get(f"{fleet.target.mic}/_control/health").status_code == 200


def test_the_supervisor_refuses_what_it_may_not_restart(fleet):
    answer = httpx2.post(f"{fleet.target.supervisor}/_control/restart/oauth2-idp")
    assert answer.status_code == 404
    assert answer.json() == {"error": "'oauth2-idp' cannot be restarted here (restartable: mic)"}
    assert httpx2.get(f"{fleet.target.supervisor}/_control/restart/mic").status_code == 405
