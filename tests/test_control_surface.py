"""The control surface: clock, faults and request log, in test mode only."""
import time

import httpx2
import pytest
from werkzeug.test import Client

import mic_reference
from mock_idps import oauth2 as oauth2_idp
from mic_reference.vault import Keyring
from plumbing.clock import SystemClock, VirtualClock
from plumbing.control import ControlSurface


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello " + environ["wsgi.input"].read()]


@pytest.fixture
def surface():
    return ControlSurface(VirtualClock(start=1_000_000, frozen=True))


@pytest.fixture
def client(surface):
    return Client(surface.wrap(hello))


def test_clock_reads_advances_and_sets(client):
    assert client.get("/_control/clock").json["now"] == 1_000_000
    assert client.post("/_control/clock", json={"advance": 86400}).json["now"] == 1_086_400
    state = client.post("/_control/clock", json={"set": "2030-01-01T00:00:00Z"}).json
    assert state["iso"] == "2030-01-01T00:00:00Z" and state["virtual"] and state["frozen"]


@pytest.mark.parametrize("body, message", [
    ({"advance": "soon"}, "advance takes a number"),
    ({"advance": -5}, "only moves forward"),
    ({"set": "not a date"}, "not an ISO 8601 instant"),
    ({"rewind": 5}, "expected one or more of"),
    ({"freeze": "yes"}, "freeze takes true or false"),
])
def test_clock_refuses_bad_input_clearly(client, body, message):
    response = client.post("/_control/clock", json=body)
    assert response.status_code == 400
    assert message in response.json["error_description"]


def test_a_wall_clock_cannot_be_moved():
    client = Client(ControlSurface(SystemClock()).wrap(hello))
    assert client.post("/_control/clock", json={"advance": 1}).status_code == 409


def test_fault_for_n_requests_then_normal_service(client):
    armed = client.post("/_control/faults", json={"path": "/oauth/*", "status": 503,
                                                  "body": {"error": "temporarily_unavailable"}, "times": 2})
    assert armed.status_code == 201
    for _ in range(2):
        faulted = client.post("/oauth/token")
        assert faulted.status_code == 503 and faulted.json == {"error": "temporarily_unavailable"}
    assert client.post("/oauth/token").status_code == 200
    assert client.get("/_control/faults").json["faults"] == []


def test_fault_until_cleared_matches_method_and_path(client):
    fault_id = client.post("/_control/faults", json={"path": "/a", "method": "post", "status": 500}).json["id"]
    assert client.get("/a").status_code == 200
    assert client.post("/b").status_code == 200
    assert [client.post("/a").status_code for _ in range(3)] == [500, 500, 500]
    assert client.get(f"/_control/faults/{fault_id}").json["hits"] == 3
    assert client.delete(f"/_control/faults/{fault_id}").json == {"cleared": 1}
    assert client.post("/a").status_code == 200


def test_delay_fault_answers_late_but_normally(client):
    client.post("/_control/faults", json={"path": "/slow", "delay": 0.2, "times": 1})
    started = time.monotonic()
    response = client.get("/slow")
    assert response.status_code == 200 and time.monotonic() - started >= 0.2


@pytest.mark.parametrize("spec, message", [
    ({"status": 500}, "path is required"),
    ({"path": "/x", "status": 99}, "status must be"),
    ({"path": "/x", "status": 500, "times": 0}, "times must be"),
    ({"path": "/x"}, "needs a status, a delay or drop"),
    ({"path": "/x", "status": 500, "color": "red"}, "unknown fault field"),
])
def test_bad_fault_specs_are_refused_with_a_reason(client, spec, message):
    response = client.post("/_control/faults", json=spec)
    assert response.status_code == 400 and message in response.json["error_description"]


def test_request_log_masks_secrets_and_filters(client):
    client.post("/oauth/token", data={"grant_type": "password", "username": "alice", "password": "wonderland"},
                headers={"Authorization": "Basic a2lkOnNlY3JldA=="})
    client.get("/other?code=abc123")
    client.get("/_control/clock")
    client.get("/_control/health")
    everything = client.get("/_control/requests").json["requests"]
    assert [e["path"] for e in everything] == ["/oauth/token", "/other"]  # control calls are not logged
    token = client.get("/_control/requests?path=/oauth/*&method=POST").json["requests"]
    assert len(token) == 1 and token[0]["status"] == 200
    assert token[0]["body"]["username"] == "alice"
    assert token[0]["body"]["password"].startswith("***")
    assert token[0]["headers"]["Authorization"].startswith("Basic ***")
    assert "wonderland" not in str(everything) and "abc123" not in str(everything)
    assert client.get(f"/_control/requests?since={token[0]['seq']}").json["requests"][0]["path"] == "/other"
    assert client.delete("/_control/requests").json == {"cleared": 2}


def test_unknown_control_endpoint_is_a_json_404(client):
    response = client.get("/_control/nothing")
    assert response.status_code == 404 and response.json["error"] == "not_found"


@pytest.mark.parametrize("build", [
    lambda: oauth2_idp.create_app(variables={"MIC": "http://mic.test"}),
    lambda: mic_reference.create_app(variables={"OAUTH2_IDP": "http://idp.test", "APP": "http://app.test"},
                                     database_url="sqlite://", vault_keys=Keyring.generate().spec()),
])
def test_outside_test_mode_the_control_routes_do_not_exist(build):
    client = build().test_client()
    for path in ("/_control/clock", "/_control/faults", "/_control/requests", "/_control/health"):
        assert client.get(path).status_code == 404
        assert client.post(path, json={"advance": 10}).status_code in (404, 405)


def test_a_dropped_connection_reaches_the_client_as_one(fleet):
    idp = fleet.urls["oauth2-idp"]
    httpx2.post(f"{idp}/_control/faults", json={"path": "/", "drop": True, "times": 1})
    with pytest.raises(httpx2.TransportError):
        httpx2.get(idp + "/")
    assert httpx2.get(idp + "/").status_code == 200
