"""MIC's own login: the ``temp_login_uri`` flow of the SDKs and the login page's form.

POST ``/{v}/oauth/auth`` (form, or JSON as Swift sends it) validates an authorization
request and answers ``{"temp_login_uri": …}``; the client then posts the user's
credentials there and reads the code from an exactly-302 answer (it does not follow
redirects). MIC's login page posts to the same place.
"""
from __future__ import annotations

from collections import Counter

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from flask import Blueprint, jsonify, request, url_for

from ..connectors.capabilities import PasswordLogin
from ..oauth.errors import NO_STORE, json_error
from ..oauth.limits import REQUEST_FIELDS
from ..records import PendingLogin
from . import login_page, mfa
from .common import VERSION_PREFIXES, absolute, finish_login, mic, remember, resumed_request, unknown_login

bp = Blueprint("authenticate", __name__, template_folder="../templates")


def temp_login_uri():
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if request.is_json and body is None:
        return jsonify(error="invalid_request", error_description="The body is not readable JSON.", debug=""), 400
    body = body if isinstance(body, dict) else {}
    params = {k: v for k, v in {**request.args.to_dict(), **body}.items() if k in REQUEST_FIELDS and isinstance(v, str)}
    try:
        _refuse_repeated(body)
        grant = mic().server.get_consent_grant(request=resumed_request(params))
        _check_basic_auth(grant.client)
    except OAuth2Error as error:
        return mic().server.handle_response(*json_error(error))
    if not isinstance(grant.client.connector, PasswordLogin) or grant.client.service.mfa != "none":
        return jsonify(error="unauthorized_client", debug="",
                       error_description="This auth service logs users in on a login page (at its identity "
                                         "provider, or MIC's with a second factor); use the browser flow."), 400
    ref = remember(params, None)
    # the URI is a bearer value until the credentials are posted to it
    return jsonify(temp_login_uri=absolute(url_for("authenticate.authenticate", ref=ref))), 200, NO_STORE


def _refuse_repeated(body: dict) -> None:
    """RFC 6749 3.1: a request parameter sent more than once (in the query, the body, or both) is
    refused, not settled by taking one of its values."""
    counts = Counter(name for name, values in request.args.lists() for _ in values)
    counts.update(list(body) if request.is_json else [name for name, values in request.form.lists() for _ in values])
    repeated = next((name for name in REQUEST_FIELDS if counts[name] > 1), None)
    if repeated is not None:
        raise InvalidRequestError(f"Multiple '{repeated}' in request.")


def _check_basic_auth(client) -> None:
    """Swift sends Basic appKey:appSecret here; when credentials come, they must be right."""
    auth = request.authorization
    if auth is None:
        return
    if auth.type != "basic" or auth.username not in (client.get_client_id(), client.environment.app_key) \
            or not client.check_client_secret(auth.password or ""):
        raise InvalidClientError("The app key and secret do not match.", status_code=401)


def authenticate(ref: str):
    """Credentials for a pending login: from an SDK (temp_login_uri) or MIC's login page."""
    pending = mic().vault.take_pending(ref)
    if pending is not None and pending.csrf_digest is not None and not login_page.csrf_ok(pending.csrf_digest):
        return unknown_login("This login form is not one MIC showed to this browser; start again from the app.")
    if pending is not None and pending.identity is not None:
        return unknown_login("This login is waiting for its second factor.")
    return _complete(pending, hosted=False)


def second_factor(ref: str):
    """The TOTP code for a login whose password checked out."""
    pending = mic().vault.take_pending(ref)
    if pending is None or pending.identity is None or pending.csrf_digest is None \
            or not login_page.csrf_ok(pending.csrf_digest):
        return unknown_login("This second step is unknown, expired or already done; start again from the app.")
    return mfa.verify(pending)


def authenticate_hosted():
    """Credentials posted by a hosted login page, with the signed reference it was given."""
    ref = login_page.open_ref(mic().vault.keyring, request.form.get("login_ref", ""), mic().vault.clock.now())
    return _complete(None if ref is None else mic().vault.take_pending(ref), hosted=True)


def _complete(pending: PendingLogin | None, *, hosted: bool):
    if pending is None or pending.callback_url is not None:
        return unknown_login("This login is unknown, expired or already done; start again.")
    for name in ("client_id", "redirect_uri"):
        if name in request.form and request.form[name] != pending.params.get(name):
            return unknown_login(f"{name} differs from the one this login began with.")
    username, password = request.form.get("username", ""), request.form.get("password", "")
    on_page = hosted or pending.csrf_digest is not None

    def retry(client, refusal):
        return login_page.show(client, pending.params, error="The username or password is not right.",
                               username=username, status=401)

    def second_step(client, identity):
        return mfa.challenge(client, pending.params, identity)

    return finish_login(resumed_request(pending.params),
                        lambda connector: connector.password_login(username, password),
                        retry if on_page else None, second_step if on_page else None)


for prefix in VERSION_PREFIXES:
    bp.add_url_rule(f"{prefix}/oauth/auth", endpoint=f"temp{prefix}", view_func=temp_login_uri, methods=["POST"])
bp.add_url_rule("/oauth/authenticate/<ref>", endpoint="authenticate", view_func=authenticate, methods=["POST"])
bp.add_url_rule("/oauth/authenticate", endpoint="authenticate_hosted", view_func=authenticate_hosted,
                methods=["POST"])
bp.add_url_rule("/oauth/authenticate/<ref>/totp", endpoint="second_factor", view_func=second_factor,
                methods=["POST"])
