"""The gate: a reverse proxy with a control surface, before a service the harness does not own."""
import time

import httpx2
import pytest

from harness import gate
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet
from samples.flexauth_service import create_app as flexauth_sample

KEY = "gate-test-key"
ALICE = {"username": "alice", "password": "wonderland", "options": {}}


@pytest.fixture(scope="module")
def urls(tmp_path_factory):
    database = tmp_path_factory.mktemp("gate") / "users.sqlite3"
    fleet = Fleet()

    def sample(urls):
        app = flexauth_sample(str(database), KEY)
        app.extensions["flexauth_users"].add_demo_users()
        return app

    fleet.add("service", sample)
    fleet.add("gate", lambda urls: gate.create_app(urls["service"], VirtualClock()))
    with fleet:
        yield fleet.urls


@pytest.fixture
def control(urls):
    surface = f"{urls['gate']}/_control"
    yield surface
    httpx2.delete(f"{surface}/faults")
    httpx2.delete(f"{surface}/requests")


def login(urls, **kwargs):
    return httpx2.post(f"{urls['gate']}/_auth/login", json=ALICE, headers={"X-Auth-Key": KEY}, **kwargs)


def test_requests_and_answers_pass_through(urls, control):
    through, direct = login(urls), httpx2.post(f"{urls['service']}/_auth/login", json=ALICE,
                                              headers={"X-Auth-Key": KEY})
    assert through.status_code == direct.status_code == 200
    assert through.json().keys() == direct.json().keys() and through.headers["content-type"] == "application/json"
    refused = httpx2.post(f"{urls['gate']}/_auth/login?x=1", json=ALICE, headers={"X-Auth-Key": "wrong"})
    assert refused.status_code == 401 and refused.json()["error"] == "access_denied"


def test_the_request_log_shows_what_was_sent_with_secrets_masked(urls, control):
    login(urls)
    entry, = httpx2.get(f"{control}/requests").json()["requests"]
    assert entry["path"] == "/_auth/login" and entry["status"] == 200
    assert entry["body"]["username"] == "alice" and entry["body"]["password"].startswith("***")
    assert entry["headers"]["X-Auth-Key"].startswith("***") and KEY not in str(entry)


def test_a_canned_malformed_answer_stands_in_for_the_service(urls, control):
    armed = httpx2.post(f"{control}/faults", json={"path": "/_auth/*", "status": 200, "body": "{not json", "times": 1})
    assert armed.status_code == 201
    canned = login(urls)
    assert canned.status_code == 200 and canned.text == "{not json"
    assert login(urls).json()["authenticated"] is True  # used up: the service answers again


def test_a_delay_and_a_dropped_connection(urls, control):
    httpx2.post(f"{control}/faults", json={"path": "/_auth/*", "delay": 0.5, "times": 1})
    began = time.monotonic()
    assert login(urls).status_code == 200 and time.monotonic() - began >= 0.5
    httpx2.post(f"{control}/faults", json={"path": "/_auth/*", "drop": True, "times": 1})
    with pytest.raises(httpx2.TransportError):
        login(urls)


def test_a_service_that_is_not_there_is_a_502():
    closed = Fleet()
    closed.add("gone", lambda urls: flexauth_sample(":memory:", KEY))
    with closed:  # a port that was just served and is closed again
        gone = closed.urls["gone"]
    fleet = Fleet()
    fleet.add("gate", lambda urls: gate.create_app(gone, VirtualClock()))
    with fleet:
        answer = httpx2.post(f"{fleet.urls['gate']}/_auth/login", json=ALICE)
        health = httpx2.get(f"{fleet.urls['gate']}/_control/health")
    assert answer.status_code == 502 and "could not reach" in answer.text
    assert health.status_code == 200 and health.json() == {"ok": True}
