"""The sample custom auth service (samples/flexauth_service): hashing, the auth key, MFA, strict input."""
import io
import json
import os
import sqlite3
import subprocess
import sys
import unicodedata

import httpx2
import pytest

from flexauth_process import ROOT, running
from samples.flexauth_service import MAX_BODY, NOT_RIGHT, SECOND_FACTOR, __main__ as cli, create_app
from samples.flexauth_service.users import DEMO_USERS, UserStore, hash_password, password_matches

KEY = "sample-shared-key"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("flexauth") / "users.sqlite3"
    UserStore(str(path)).add_demo_users()
    return path


@pytest.fixture(scope="module")
def client(database):
    return create_app(str(database), KEY, "login").test_client()


def post(client, body=None, *, key=KEY, raw=None, content_type="application/json", handler="login"):
    headers = {"X-Auth-Key": key} if key is not None else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post(f"/_auth/{handler}", data=data, headers=headers, content_type=content_type)


def test_passwords_are_stored_only_as_salted_scrypt_hashes(database):
    stored = hash_password("wonderland")
    assert stored.startswith("scrypt$16384$8$1$") and stored != hash_password("wonderland")  # a new salt each time
    assert password_matches("wonderland", stored) and not password_matches("wonderlanD", stored)
    raw = database.read_bytes()
    assert b"wonderland" not in raw and b"lookingglass" not in raw
    with sqlite3.connect(database) as db:
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM users")]
    assert len(hashes) == len(DEMO_USERS) and all(h.startswith("scrypt$") for h in hashes)


def test_a_user_logs_in_with_a_token_and_attributes(client):
    answer = post(client, {"username": "alice", "password": "wonderland", "options": {}})
    body = answer.get_json()
    assert answer.status_code == 200 and body["authenticated"] is True
    assert body["email"] == "alice@example.org" and body["groups"] == ["readers"] and body["username"] == "alice"
    assert len(body["token"]["access_token"]) >= 32
    again = post(client, {"username": "alice", "password": "wonderland"}).get_json()
    assert again["token"]["access_token"] != body["token"]["access_token"]


@pytest.mark.parametrize("key", [None, "", "not-the-key", KEY + "x", KEY.upper()])
def test_a_missing_or_wrong_auth_key_is_refused_before_anything_else(client, key):
    for body in ({"username": "alice", "password": "wonderland"}, None):
        answer = post(client, body, key=key, raw=None if body else "x" * (MAX_BODY * 2))
        assert answer.status_code == 401
        assert answer.get_json() == {"error": "access_denied",
                                     "error_description": "The X-Auth-Key header is missing or wrong."}


@pytest.mark.parametrize("username, password", [("alice", "wrong"), ("nobody", "wonderland"), ("", "wonderland"),
                                                ("alice", ""), ("a" * 257, "x"), ("alice", "p" * 1025),
                                                ("ALICE", "wonderland"), ("名無し", "x")])
def test_wrong_credentials_are_access_denied(client, username, password):
    answer = post(client, {"username": username, "password": password})
    assert answer.status_code == 401
    assert answer.get_json() == {"error": "access_denied", "error_description": NOT_RIGHT}


def test_the_mfa_user_is_refused_by_password_alone_and_told_why(client):
    answer = post(client, {"username": "carol", "password": "lookingglass"})
    assert answer.status_code == 401 and answer.get_json()["error_description"] == SECOND_FACTOR
    # whoever does not know her password learns nothing about her second factor
    assert post(client, {"username": "carol", "password": "guess"}).get_json()["error_description"] == NOT_RIGHT


def test_unicode_names_are_compared_in_nfc(client):
    name, password = "Zoë-日本", "ünïcødé-pässwörd"
    for form in ("NFC", "NFD"):
        answer = post(client, {"username": unicodedata.normalize(form, name), "password": password})
        assert answer.status_code == 200 and answer.get_json()["username"] == name


@pytest.mark.parametrize("raw, content_type, status", [
    ("{not json", "application/json", 400),
    ("[]", "application/json", 400),
    ('"alice"', "application/json", 400),
    ('{"username": "alice"}', "application/json", 400),
    ('{"username": "alice", "password": 7}', "application/json", 400),
    ('{"username": ["alice"], "password": "wonderland"}', "application/json", 400),
    ('{"username": "alice", "password": "wonderland", "options": []}', "application/json", 400),
    ('{"username": "\\ud800", "password": "x"}', "application/json", 400),
    (b'{"username": "\xff", "password": "x"}', "application/json", 400),
    ("username=alice&password=wonderland", "application/x-www-form-urlencoded", 400),
    (json.dumps({"username": "alice", "password": "x" * MAX_BODY}), "application/json", 413)])
def test_bodies_outside_the_contract_get_a_4xx_in_the_contract_shape(client, raw, content_type, status):
    answer = post(client, raw=raw, content_type=content_type)
    assert answer.status_code == status
    assert set(answer.get_json()) == {"error", "error_description"} and answer.get_json()["error"] == "access_denied"


def test_other_handlers_and_methods_are_4xx_in_the_contract_shape(client):
    assert post(client, {"username": "alice", "password": "wonderland"}, handler="other").status_code == 404
    assert client.get("/_auth/login").status_code == 405 and "error" in client.get("/_auth/login").get_json()


def test_an_auth_key_is_required():
    with pytest.raises(ValueError):
        create_app(":memory:", "")


def test_add_user_from_the_command_line(tmp_path, monkeypatch):
    database = tmp_path / "users.sqlite3"
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse\n"))
    assert cli.main(["add-user", "dave", "--database", str(database), "--mfa", "--attribute", "email=d@example.org",
                     "--attribute", "groups=a", "--attribute", "groups=b"]) == 0
    with sqlite3.connect(database) as db:
        (mfa, attributes), = db.execute("SELECT mfa_required, attributes FROM users WHERE username = 'dave'")
    assert mfa == 1 and json.loads(attributes) == {"email": "d@example.org", "groups": ["a", "b"]}
    answer = post(create_app(str(database), KEY).test_client(), {"username": "dave", "password": "correct horse"})
    assert answer.get_json()["error_description"] == SECOND_FACTOR
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    assert cli.main(["add-user", "eve", "--database", str(database), "--attribute", "no-equals-sign"]) == 2


def test_python_m_runs_it_standalone(tmp_path):
    with running(["-m", "samples.flexauth_service", "--handler", "auth", "--database", str(tmp_path / "u.sqlite3"),
                  "--demo-users"], KEY) as url:
        answer = httpx2.post(f"{url}/_auth/auth", json={"username": "bob", "password": "builder", "options": {}},
                             headers={"X-Auth-Key": KEY})
        assert answer.status_code == 200 and answer.json()["name"] == "Bob the Builder"
    env = {k: v for k, v in os.environ.items() if k != "FLEXAUTH_AUTH_KEY"} | {"PYTHONPATH": str(ROOT)}
    without_key = subprocess.run([sys.executable, "-m", "samples.flexauth_service"], capture_output=True, text=True,
                                 env=env, timeout=30)
    assert without_key.returncode == 2 and "auth key is required" in without_key.stderr
