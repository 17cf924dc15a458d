"""Graph API v3.0 as an identity provider: the login dialog (login page, the person's
Facebook session, the permissions screen), the code exchange and ``fb_exchange_token``,
``/me`` with its fields, ``/me/permissions`` and ``/debug_token``.

Every Graph call is strict as Graph is: exact ``redirect_uri``, the app secret, codes
that serve once within their TTL, tokens that expire on the clock or die with a
revocation, and ``appsecret_proof`` checked whenever sent (and demanded where the app
requires it). Refusals are Graph's error objects, never a stack trace.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, redirect, render_template, request

from mock_idps.shared import pages
from mock_idps.shared.records import Client, Login, Token

from . import graph
from .graph import GraphError
from .records import PUBLIC_PROFILE, FacebookStore

bp = Blueprint("facebook", __name__, template_folder="templates")

VERSION = "/v3.0"
SESSION_COOKIE = "c_user"
#: the User node's fields this mock knows, and the permission each needs beyond public_profile
FIELD_PERMISSIONS = {"id": PUBLIC_PROFILE, "name": PUBLIC_PROFILE, "first_name": PUBLIC_PROFILE,
                     "last_name": PUBLIC_PROFILE, "middle_name": PUBLIC_PROFILE, "short_name": PUBLIC_PROFILE,
                     "picture": PUBLIC_PROFILE, "email": "email", "birthday": "user_birthday",
                     "gender": "user_gender", "link": "user_link", "hometown": "user_hometown",
                     "location": "user_location"}
DEFAULT_FIELDS = "id,name"


def store() -> FacebookStore:
    return current_app.extensions["facebook"]


@bp.errorhandler(GraphError)
def _graph_error(error: GraphError):
    return error.response()


# -- the login dialog ----------------------------------------------------------------

@dataclass
class Dialog:
    """A validated dialog request: the app, where to come back, and what it asks for."""

    client: Client
    redirect_uri: str
    state: str | None
    asked: list[str]
    rerequest: bool

    def back(self, **params: str) -> str:
        """The app's redirect URI with ``params`` (and the state it sent)."""
        query = urlencode({**params, **({"state": self.state} if self.state is not None else {})})
        return f"{self.redirect_uri}{'&' if '?' in self.redirect_uri else '?'}{query}"


def _dialog() -> Dialog:
    """The request's app, redirect URI and permissions, or Graph's error (never a redirect to
    a URI the app did not register)."""
    args = request.args
    client = store().clients.get(args.get("client_id", ""))
    if client is None:
        raise GraphError("Invalid App ID: The provided app ID does not look like a valid app ID.", code=101)
    redirect_uri = args.get("redirect_uri", "")
    if not client.check_redirect_uri(redirect_uri):
        raise GraphError("URL Blocked: This redirect failed because the redirect URI is not whitelisted in the "
                         "app's Client OAuth Settings.", code=191)
    if args.get("response_type", "code") != "code":
        raise graph.bad_parameter("response_type: this dialog answers with a code only.")
    asked = [PUBLIC_PROFILE, *dict.fromkeys(p for p in re.split(r"[\s,]+", args.get("scope", ""))
                                            if p and p != PUBLIC_PROFILE)]
    invalid = [p for p in asked if p != PUBLIC_PROFILE and p not in client.spec.scope.split()]
    if invalid:
        raise graph.bad_parameter(f"Invalid Scopes: {', '.join(invalid)}. This app may ask for: "
                                  f"{client.spec.scope or PUBLIC_PROFILE}.")
    return Dialog(client, redirect_uri, args.get("state"), asked, args.get("auth_type") == "rerequest")


@bp.route(f"{VERSION}/dialog/oauth", methods=["GET", "POST"])
def dialog():
    dialog = _dialog()
    client_id = dialog.client.get_client_id()
    login = pages.session_login(store(), SESSION_COOKIE)
    if request.method == "GET":
        return pages.login_page(client_id) if login is None else _logged_in(dialog, login)
    if "decision" in request.form:
        return _decided(dialog, login)
    username = request.form.get("username", "")
    user = store().authenticate(username, request.form.get("password", ""))
    if user is None:
        return pages.wrong_password(client_id, username)
    login = store().login(user)
    response = current_app.make_response(_logged_in(dialog, login))
    return pages.keep_session(response, store(), login, SESSION_COOKIE)


def _logged_in(dialog: Dialog, login: Login):
    """The permissions screen when the person has something to decide, else the code."""
    optional = store().undecided(login, dialog.client, dialog.asked, dialog.rerequest)
    if not optional:
        return _code(dialog, login)
    return render_template("permissions.html", name=login.user.attributes.get("name", login.user.username),
                           client_id=dialog.client.get_client_id(), optional=optional,
                           form_token=store().form_token(login, dialog.client))


def _decided(dialog: Dialog, login: Login | None):
    """The permissions screen's answer: Cancel goes back refused, Continue grants what stayed ticked."""
    if login is None:
        return pages.login_page(dialog.client.get_client_id(), error="Your session has ended; sign in again.",
                                status=401)
    if not secrets.compare_digest(request.form.get("fb_dtsg", ""), store().form_token(login, dialog.client)):
        raise graph.bad_parameter("The permissions form did not come from this person's dialog.")
    if request.form["decision"] == "cancel":
        return redirect(dialog.back(error="access_denied", error_code="200", error_description="Permissions error",
                                    error_reason="user_denied"))
    shown = store().undecided(login, dialog.client, dialog.asked, dialog.rerequest)
    granted = [p for p in shown if request.form.get(f"grant_{p}") == "on"]
    store().decide(login, dialog.client, granted, [p for p in shown if p not in granted])
    return _code(dialog, login)


def _code(dialog: Dialog, login: Login):
    permissions = store().granted(login, dialog.client, dialog.asked)
    return redirect(dialog.back(code=store().issue_code(dialog.client, dialog.redirect_uri, login, permissions)))


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Ends the person's Facebook session (what an app's logout does not do)."""
    return pages.end_session(jsonify(logged_out=True), store(), SESSION_COOKIE)


# -- tokens --------------------------------------------------------------------------

def _required(name: str) -> str:
    value = request.values.get(name)
    if not value:
        raise graph.bad_parameter(f"Missing {name} parameter.")
    return value


def _app() -> Client:
    """The app the request names, its secret checked."""
    client = store().clients.get(_required("client_id"))
    if client is None:
        raise GraphError("Error validating application. Invalid application ID.", code=101)
    if not client.check_client_secret(_required("client_secret")):
        raise GraphError("Error validating client secret.", code=1)
    return client


@bp.route(f"{VERSION}/oauth/access_token", methods=["GET", "POST"])
def access_token():
    """A code for a short-lived token, or (``fb_exchange_token``) a live token for a long-lived one."""
    client = _app()
    grant_type = request.values.get("grant_type", "authorization_code")
    if grant_type == "fb_exchange_token":
        current = store().check_token(_required("fb_exchange_token"))
        if current.client_id != client.get_client_id():
            raise graph.invalid_token("Error validating access token: the token was not issued to this app.")
        lifetime = store().fixture.long_token_ttl
        token = store().issue_token(client, current.login, tuple(current.scope.split()), lifetime)
    elif grant_type == "authorization_code":
        issued = store().redeem_code(_required("code"), client, _required("redirect_uri"))
        lifetime = store().fixture.token_ttl
        token = store().issue_token(client, issued.login, issued.permissions, lifetime)
    else:
        raise graph.bad_parameter(f"Unsupported grant_type: {grant_type}")
    return jsonify(access_token=token.access_token, token_type="bearer", expires_in=lifetime)


# -- the Graph -----------------------------------------------------------------------

def _bearer() -> str:
    """The access token, from the ``access_token`` parameter or an ``OAuth``/``Bearer`` header."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    found = request.values.get("access_token") or (value.strip() if scheme.lower() in ("oauth", "bearer") else "")
    if not found:
        raise GraphError("An active access token must be used to query information about the current user.",
                         code=2500)
    return found


def _user_token() -> Token:
    """The request's user token, good now, with its appsecret_proof checked."""
    token = store().check_token(_bearer())
    client = token.get_client()
    proof = request.values.get("appsecret_proof")
    if proof is None:
        if client.spec.require_appsecret_proof:
            raise GraphError("API calls from the server require an appsecret_proof argument", code=100,
                             kind="GraphMethodException")
        return token
    expected = hmac.new(client.spec.client_secret.encode(), token.access_token.encode(), hashlib.sha256).hexdigest()
    if not secrets.compare_digest(proof.encode(), expected.encode()):
        raise GraphError("Invalid appsecret_proof provided in the API argument", code=100,
                         kind="GraphMethodException")
    return token


@bp.route(f"{VERSION}/me")
def me():
    """The person's fields that the token's permissions release; a declined one is simply absent."""
    token = _user_token()
    fields = [f.strip() for f in request.values.get("fields", DEFAULT_FIELDS).split(",") if f.strip()]
    unknown = [f for f in fields if f not in FIELD_PERMISSIONS]
    if unknown:
        raise graph.bad_parameter(f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (User)")
    user, granted = token.login.user, set(token.scope.split())
    values = {"id": user.id, **user.attributes}
    return jsonify({f: values[f] for f in ["id", *fields] if f in values and FIELD_PERMISSIONS[f] in granted})


@bp.route(f"{VERSION}/me/permissions")
def permissions():
    token = _user_token()
    decided = store().decisions(token.login.user.username, token.client_id)
    return jsonify(data=[{"permission": p, "status": status} for p, status in decided.items()])


@bp.route("/debug_token")
@bp.route(f"{VERSION}/debug_token")
def debug_token():
    """What Graph knows of ``input_token``, asked with the app's token (``app_id|app_secret``)."""
    app_id, _, secret = _bearer().partition("|")
    client = store().clients.get(app_id)
    if client is None or not client.check_client_secret(secret):
        raise graph.invalid_token("Invalid OAuth access token signature: debug_token takes the app's token.")
    token = store().find_access_token(_required("input_token"))
    if token is None or token.client_id != app_id:
        return jsonify(data={"is_valid": False, "error": {"code": 190, "message": "Invalid OAuth access token."}})
    data = {"app_id": app_id, "type": "USER", "application": app_id, "user_id": token.login.user.id,
            "issued_at": int(token.issued_at), "expires_at": int(token.issued_at + token.expires_in),
            "scopes": token.scope.split(), "is_valid": True}
    try:
        store().check_token(token.access_token)
    except GraphError as error:
        data |= {"is_valid": False, "error": {"code": error.code, "message": error.message,
                                              "subcode": error.subcode}}
    return jsonify(data=data)
