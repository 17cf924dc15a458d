"""A strict Facebook-like identity provider: Graph API v3.0's login dialog (with the
permissions screen where a person may decline what an app asks for, or cancel), code
exchange, long-lived tokens, ``/me``, ``/me/permissions`` and ``/debug_token``.

In test mode its control surface adds ``/_control/revoke`` to the clock, faults and
request log: POST ``{"user", "reason": "deauthorized" | "password_changed", "app"?}``
invalidates the person's tokens as removing the app or changing the password does.
Clearing the faults also forgets every person's permission decisions, so a cell that
declined a permission leaves nothing behind.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.wrappers import Request

from mock_idps.shared.pages import templates
from plumbing import control
from plumbing.clock import Clock, SystemClock
from plumbing.control import ControlError, json_object

from . import fixture as fixtures
from .records import REVOCATIONS, FacebookStore
from .views import bp


def create_app(fixture: str | Path = fixtures.DEFAULT, *, clock: Clock | None = None,
               test_mode: bool = False, variables: dict[str, str] | None = None) -> Flask:
    """The provider as a WSGI app; ``variables`` fill ``${NAME}`` in the fixture."""
    clock = clock or SystemClock()
    app = Flask(__name__)
    store = FacebookStore(fixtures.load(fixture, variables), clock)
    app.extensions["facebook"] = store
    app.register_blueprint(templates)
    app.register_blueprint(bp)
    if test_mode:
        surface = control.install(app, clock)
        surface.extend("revoke", lambda request: _revoke(request, store), clear=store.forget_decisions)
    return app


def _revoke(request: Request, store: FacebookStore) -> tuple[int, dict]:
    if request.method != "POST":
        raise ControlError(405, "a revocation is posted: {user, reason?, app?}")
    body = json_object(request)
    unknown = set(body) - {"user", "reason", "app"}
    if unknown or "user" not in body:
        raise ControlError(400, "expected user, and optionally reason (deauthorized, password_changed) and app")
    if body["user"] not in store.users:
        raise ControlError(404, f"no user {body['user']!r}")
    reason = body.get("reason", "deauthorized")
    if reason not in REVOCATIONS:
        raise ControlError(400, f"reason is one of: {', '.join(REVOCATIONS)}")
    if "app" in body and body["app"] not in store.clients:
        raise ControlError(404, f"no app {body['app']!r}")
    return 200, {"revoked": store.revoke_user(body["user"], reason, body.get("app"))}
