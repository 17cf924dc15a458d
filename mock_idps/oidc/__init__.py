"""A strict OpenID Provider on authlib and joserfc: every response type and mode, PKCE,
the IdP's session, ``prompt``/``max_age``, consent, TOTP, refresh rotation, userinfo by
scope, introspection, revocation and end_session; several issuers on one server.

In test mode its control surface adds ``/_control/keys`` (rotate the signing keys) and
``/_control/tamper`` (forge the next id_tokens; clearing the faults disarms it too) to the
clock, faults and request log.
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
from .keys import KeyRing
from .records import OidcStore
from .server import Issuer, build
from .tamper import TamperBook
from .views import bp


def create_app(fixture: str | Path = fixtures.DEFAULT, *, clock: Clock | None = None,
               test_mode: bool = False, variables: dict[str, str] | None = None) -> Flask:
    """The provider as a WSGI app; ``variables`` fill ``${NAME}`` in the fixture."""
    clock = clock or SystemClock()
    settings = fixtures.load(fixture, variables)
    app = Flask(__name__)
    app.register_blueprint(templates)
    tampering = TamperBook()
    issuers: dict[str, Issuer] = {}
    for index, prefix in enumerate(settings.issuers):
        name = f"oidc{index}"
        issuers[name] = Issuer(prefix, OidcStore(settings, clock), KeyRing(), tampering)
        build(app, issuers[name])
        app.register_blueprint(bp, name=name, url_prefix=prefix or None)
    app.extensions["oidc_provider"] = issuers
    if test_mode:
        surface = control.install(app, clock)
        surface.extend("tamper", tampering.control, clear=tampering.clear)
        surface.extend("keys", lambda request: _keys(request, issuers))
    return app


def _keys(request: Request, issuers: dict[str, Issuer]) -> tuple[int, dict]:
    """``/_control/keys``: the kids each issuer publishes; POST ``{"rotate": true}`` or
    ``{"retire_previous": true}``, optionally for one ``issuer`` (its path prefix)."""
    chosen = list(issuers.values())
    if request.method == "POST":
        body = json_object(request)
        if set(body) - {"rotate", "retire_previous", "issuer"} or not ({"rotate", "retire_previous"} & set(body)):
            raise ControlError(400, "expected rotate: true or retire_previous: true, and optionally issuer")
        if "issuer" in body:
            chosen = [i for i in chosen if i.prefix == body["issuer"]]
            if not chosen:
                raise ControlError(404, f"no issuer at prefix {body['issuer']!r}")
        for current in chosen:
            if body.get("rotate"):
                current.keys.rotate()
            if body.get("retire_previous"):
                current.keys.retire_previous()
    elif request.method == "DELETE":
        raise ControlError(405, "keys are rotated (POST), not deleted")
    return 200, {"issuers": {i.prefix or "/": i.keys.kids() for i in chosen}}
