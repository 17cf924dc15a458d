"""A strict, tamperable SAML 2.0 identity provider on pysaml2 (Web SSO, SP-initiated and not),
with an OAuth WRAP v0.9 Access Token URL that issues signed assertions for a password (``wrap``).

Test mode adds ``/_control/tamper`` to the shared control surface: arm a mutation of
the next Response or WRAP token (see ``tampering``); clearing the faults clears it too.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from plumbing import control
from plumbing.clock import Clock, SystemClock
from plumbing.xmldsig import SigningIdentity

from ..shared import pages
from . import fixture as fixtures, wrap
from .idp import Idp
from .tampering import ASSERTION_MUTATIONS, MUTATIONS, TamperError
from .views import bp


def create_app(fixture: str | Path = fixtures.DEFAULT, *, clock: Clock | None = None, test_mode: bool = False,
               variables: dict[str, str] | None = None, signer: SigningIdentity | None = None,
               crypto: str = "binding") -> Flask:
    """The IdP as a WSGI app; ``variables`` fill ``${NAME}`` in the fixture. Without a
    ``signer`` it generates its own key; ``crypto`` is ``binding`` or ``xmlsec1``."""
    clock = clock or SystemClock()
    app = Flask(__name__)
    idp = Idp.build(fixtures.load(fixture, variables), clock, signer, crypto)
    app.extensions["saml_idp"] = idp
    app.register_blueprint(pages.templates)
    app.register_blueprint(bp)
    app.register_blueprint(wrap.bp)
    if test_mode:
        surface = control.install(app, clock)
        surface.extend("tamper", lambda request: _tamper(idp, request), clear=idp.tampers.clear)
    return app


def _tamper(idp: Idp, request) -> tuple[int, dict]:
    if request.method == "POST":
        try:
            return 201, idp.tampers.arm(control.json_object(request))
        except TamperError as exc:
            raise control.ControlError(400, str(exc)) from None
    if request.method == "DELETE":
        return 200, {"cleared": idp.tampers.clear()}
    return 200, {"armed": idp.tampers.armed(), "mutations": MUTATIONS, "wrap_mutations": ASSERTION_MUTATIONS}
