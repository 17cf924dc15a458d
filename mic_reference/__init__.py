"""The reference MIC: an OAuth2 broker wire-compatible with the Kinvey SDKs.

It knows the mock IdPs only through the wire: its configuration names their URLs.
"""
from __future__ import annotations

import logging
from pathlib import Path

import httpx2
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from plumbing import control
from plumbing.clock import Clock, SystemClock

from . import config as mic_config
from . import connectors
from .connectors.capabilities import RedirectLogin
from .oauth import server as oauth_server
from .oauth.clients import ClientDirectory
from .store import MemoryStore
from .views import authorize, token
from .views.common import Mic

log = logging.getLogger(__name__)


def create_app(config: str | Path = mic_config.DEMO, *, clock: Clock | None = None,
               test_mode: bool = False, variables: dict[str, str] | None = None) -> Flask:
    """The MIC as a WSGI app; ``variables`` fill ``${NAME}`` in the configuration."""
    clock = clock or SystemClock()
    types = connectors.available()
    settings = mic_config.load(config, variables,
                               provider_schemas={name: t.PROVIDER_SCHEMA for name, t in types.items()})
    upstream = httpx2.HTTPTransport()  # one connection pool for every connector's upstream calls
    built = {(env.app_key, service.id): types[service.provider.type].build(service, upstream)
             for env in settings.environments.values() for service in env.services.values()}

    app = Flask(__name__)
    store = MemoryStore(clock)
    clients = ClientDirectory(settings, built)
    app.extensions["mic"] = Mic(oauth_server.build(app, clients, store), clients, store)
    app.register_blueprint(authorize.bp)
    app.register_blueprint(token.bp)
    authorize.add_callback_routes(app, {c.callback_path for c in built.values() if isinstance(c, RedirectLogin)})
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    if test_mode:
        control.install(app, clock)
    return app


def _http_error(exc: HTTPException):
    error = {404: "not_found", 405: "invalid_request"}.get(exc.code, "invalid_request")
    return jsonify(error=error, error_description=exc.description, debug=""), exc.code


def _unexpected_error(exc: Exception):
    log.exception("unexpected error")
    return jsonify(error="server_error", error_description="The MIC failed to handle this request.",
                   debug=type(exc).__name__), 500
