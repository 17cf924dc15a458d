"""What an unauthenticated request may make the MIC read and keep: bodies, fields, and how long."""
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from mic_reference import create_app
from mic_reference.connectors.capabilities import Identity
from mic_reference.oauth.limits import MAX_BODY, MAX_FIELD
from mic_reference.records import IssuedCode
from mic_reference.vault import CODE_AFTERLIFE, schema
from mic_reference.views.common import LOGIN_TTL
from plumbing.clock import VirtualClock

APP = ("kid_demo", "demo-app-secret")
REDIRECT = "http://app.test/callback"
LOGIN = {"client_id": "kid_demo.oauth2-password", "redirect_uri": REDIRECT, "response_type": "code"}


@pytest.fixture()
def app():
    return create_app(clock=VirtualClock(), test_mode=True,
                      variables={"OAUTH2_IDP": "http://127.0.0.1:9", "APP": "http://app.test"})


def rows(app, table) -> int:
    with app.extensions["mic"].vault.transaction() as db:
        return db.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_megabyte_state_is_refused_and_not_kept(app):
    client = app.test_client()
    response = client.post("/v3/oauth/auth", json={**LOGIN, "state": "s" * 1_000_000}, auth=APP)
    assert response.status_code == 400, response.data
    assert response.get_json()["error"] == "invalid_request" and "temp_login_uri" not in response.get_json()
    assert rows(app, schema.pending_logins) == 0
    assert client.post("/v3/oauth/auth", json={**LOGIN, "state": "s" * MAX_FIELD}, auth=APP).status_code == 200


def test_an_overlong_state_at_the_authorization_endpoint_is_an_error_redirect_without_it(app):
    response = app.test_client().get("/v3/oauth/auth", query_string={**LOGIN, "state": "s" * (MAX_FIELD + 1)})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and "state" not in query and "code" not in query
    assert rows(app, schema.pending_logins) == 0


def test_unknown_parameters_are_not_kept(app):
    client = app.test_client()
    client.get("/v3/oauth/auth", query_string={**LOGIN, "x_junk": "j" * 50_000})
    with app.extensions["mic"].vault.transaction() as db:
        sealed = db.execute(select(schema.pending_logins.c.sealed)).scalar_one()
    assert len(sealed) < 2000


@pytest.mark.parametrize("path", ["/v3/oauth/token", "/v3/oauth/auth", "/user/kid_demo/login"])
def test_a_body_over_the_limit_is_a_413_with_an_oauth_error(app, path):
    body = b"x=" + b"a" * MAX_BODY
    kind = "application/json" if path.startswith("/user") else "application/x-www-form-urlencoded"
    response = app.test_client().post(path, data=body, content_type=kind, auth=APP)
    assert response.status_code == 413
    assert response.get_json()["error"] == "invalid_request"
    assert app.extensions["control_surface"].requests.select(path=path)[-1]["body"] is None  # not buffered


def test_expired_pending_logins_are_purged_on_the_mics_clock(app):
    client, clock = app.test_client(), app.extensions["mic"].vault.clock
    for _ in range(3):
        assert client.post("/v3/oauth/auth", data=LOGIN).status_code == 200
    clock.advance(LOGIN_TTL - 1)
    client.post("/v3/oauth/auth", data=LOGIN)
    assert rows(app, schema.pending_logins) == 4
    clock.advance(1)
    client.post("/v3/oauth/auth", data=LOGIN)
    assert rows(app, schema.pending_logins) == 2  # the three that expired now are gone


def test_expired_codes_are_purged_after_their_afterlife(app):
    vault = app.extensions["mic"].vault

    def issue(name: str) -> None:
        grant = vault.open_grant(Identity("alice"), None)
        vault.put_code(IssuedCode(code=name, client_id="kid_demo", redirect_uri=REDIRECT, scope="", grant=grant,
                                  expires_at=vault.clock.now() + 60))

    issue("first")
    vault.clock.advance(60 + CODE_AFTERLIFE - 1)
    issue("second")
    assert rows(app, schema.codes) == 2
    vault.clock.advance(1)
    issue("third")
    assert rows(app, schema.codes) == 2
