"""A strict OAuth2 provider (authorization code with optional PKCE, password, refresh) on authlib."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from flask import Flask

from plumbing import control
from mock_idps.shared.pages import templates
from mock_idps.shared.records import Store
from plumbing.clock import Clock, SystemClock

from . import fixture as fixtures
from .server import build
from .views import bp


@dataclass
class Provider:
    server: AuthorizationServer
    protector: ResourceProtector
    store: Store


def create_app(fixture: str | Path = fixtures.DEFAULT, *, clock: Clock | None = None,
               test_mode: bool = False, variables: dict[str, str] | None = None) -> Flask:
    """The provider as a WSGI app; ``variables`` fill ``${NAME}`` in the fixture."""
    clock = clock or SystemClock()
    app = Flask(__name__)
    store = Store(fixtures.load(fixture, variables), clock)
    server, protector = build(app, store)
    app.extensions["oauth2_provider"] = Provider(server, protector, store)
    app.register_blueprint(templates)
    app.register_blueprint(bp)
    if test_mode:
        control.install(app, clock)
    return app
