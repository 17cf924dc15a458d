"""The reference MIC: an OAuth2 broker wire-compatible with the Kinvey SDKs.

It knows the mock IdPs only through the wire: its configuration names their URLs.
"""
from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

import httpx2
from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from plumbing import control, safejson
from plumbing.clock import Clock, SystemClock
from plumbing.yamlfile import Document

from . import admin
from . import config as mic_config
from . import connectors
from .oauth import server as oauth_server
from .oauth.clients import ClientDirectory
from .oauth.limits import MAX_BODY
from .vault import Keyring, KeyringError, Vault
from .baas.store import BaasStore
from .baas.views import bp as baas_bp
from .views import authenticate, authorize, saml, token
from .views.common import Mic

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "sqlite:///mic-reference.sqlite3"
#: where a MIC told nothing else says it is (what Flask's test client calls)
DEFAULT_PUBLIC_URL = "http://localhost"


def create_app(config: str | Path = mic_config.DEMO, *, clock: Clock | None = None,
               test_mode: bool = False, variables: dict[str, str] | None = None,
               database_url: str | None = None, vault_keys: str | None = None,
               admin_token: str | None = None, upstream_trust: ssl.SSLContext | None = None,
               public_url: str | None = None) -> Flask:
    """The MIC as a WSGI app; ``variables`` fill ``${NAME}`` in the configuration.

    The vault lives at ``database_url`` (else ``$MIC_DATABASE_URL``; else, in test mode,
    in memory, and otherwise ``sqlite:///mic-reference.sqlite3``), sealed with
    ``vault_keys`` (else ``$MIC_VAULT_KEYS``; a test-mode MIC without keys makes one up).
    The admin API (the console's Service Catalog) answers to ``admin_token`` (else
    ``$MIC_ADMIN_TOKEN``) as a Bearer token, and does not exist without one.
    ``upstream_trust`` is what calls to identity providers verify against (default:
    the system's trust store). ``public_url`` (else ``$MIC_PUBLIC_URL``, else
    ``http://localhost``) is where apps and identity providers reach the MIC: every absolute
    URL it hands out (temp_login_uri, the upstream redirect_uri, SAML's entity id and
    assertion consumer) starts with it, never with the Host header a request brought.
    """
    clock = clock or SystemClock()

    def from_file() -> mic_config.MicConfig:
        return mic_config.load(config, variables, provider_schemas=connectors.provider_schemas(),
                               service_defaults=connectors.service_defaults())
    in_file = from_file()  # checked first, even when the vault holds a newer revision: it is the fallback
    vault = Vault(_database_url(database_url, test_mode), _keyring(vault_keys, test_mode), clock)
    settings = _saved_configuration(vault) or in_file
    # one connection pool for every connector's upstream calls
    upstream = httpx2.HTTPTransport(verify=upstream_trust if upstream_trust is not None else True)
    built = connectors.build_all(settings, upstream)

    app = Flask(__name__)
    app.json = _DepthSafeJSON(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY  # a larger body is a 413 before anything reads it
    public = _public_url(public_url)
    clients = ClientDirectory(settings, built, public)
    app.extensions["mic"] = Mic(oauth_server.build(app, clients, vault), clients, vault, upstream, public)
    app.register_blueprint(authorize.bp)
    app.register_blueprint(authenticate.bp)
    app.register_blueprint(token.bp)
    app.register_blueprint(saml.bp)
    app.extensions["baas"] = BaasStore(vault)
    app.register_blueprint(baas_bp)
    # every installed type's, so that a service the admin API adds later is served too
    authorize.add_callback_routes(app, connectors.callback_paths())
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    admin_token = admin_token or os.environ.get("MIC_ADMIN_TOKEN")
    if admin_token:
        app.extensions["mic_admin_token"] = admin_token
        app.extensions["mic_config_file"] = from_file
        app.register_blueprint(admin.bp)
    if test_mode:
        control.install(app, clock)
    return app


class _DepthSafeJSON(DefaultJSONProvider):
    """Every JSON body the MIC reads goes through here: one nested too deep is a clean 400."""

    def loads(self, s, **kwargs):
        return safejson.loads(s, **kwargs)


def _saved_configuration(vault: Vault) -> mic_config.MicConfig | None:
    """The configuration as the admin API last left it, which wins over the file."""
    document = vault.latest_configuration()
    if document is None:
        return None
    log.info("configuration: the admin API's last saved revision (the vault), not the file")
    return mic_config.from_document(Document("the configuration saved by the admin API", document),
                                    provider_schemas=connectors.provider_schemas(),
                                    service_defaults=connectors.service_defaults())


def _public_url(given: str | None) -> str:
    url = (given or os.environ.get("MIC_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the MIC's public URL must be http:// or https://, not {url!r}")
    return url


def _database_url(given: str | None, test_mode: bool) -> str:
    return given or os.environ.get("MIC_DATABASE_URL") or ("sqlite://" if test_mode else DEFAULT_DATABASE)


def _keyring(given: str | None, test_mode: bool) -> Keyring:
    spec = given or os.environ.get("MIC_VAULT_KEYS")
    if spec:
        return Keyring.parse(spec)
    if test_mode:
        return Keyring.generate()
    raise KeyringError("the vault needs keys: set MIC_VAULT_KEYS to 'id:base64(32 random bytes)'")


#: on every answer: no content sniffing, and no page of the MIC (login, TOTP) inside another site's frame
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Content-Security-Policy": "frame-ancestors 'none'"}


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _http_error(exc: HTTPException):
    error = {404: "not_found", 405: "invalid_request"}.get(exc.code, "invalid_request")
    return jsonify(error=error, error_description=exc.description, debug=""), exc.code


def _unexpected_error(exc: Exception):
    log.exception("unexpected error")
    return jsonify(error="server_error", error_description="The MIC failed to handle this request.",
                   debug=type(exc).__name__), 500
