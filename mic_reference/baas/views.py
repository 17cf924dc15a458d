"""The BaaS stand-in's endpoints, answering as the Kinvey backend did (wire doc, BaaS host)."""
from __future__ import annotations

import base64
import secrets
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from plumbing.clock import isoformat

from ..config import Environment
from ..oauth.errors import NO_STORE
from ..validation import ValidToken, validate
from ..vault import digest
from .store import AppUser, BaasStore, Session

bp = Blueprint("baas", __name__)

INVALID_CREDENTIALS = "Invalid credentials. Please retry your request with correct credentials"
#: what the SDK sends in kinveyAuth that is echoed back in the user's social identity
_ECHOED = ("identity", "client_id", "redirect_uri", "protocol", "host", "access_token", "token_type",
           "expires_in", "refresh_token", "id_token")


class KinveyError(Exception):
    def __init__(self, status: int, error: str, description: str, debug: str = "") -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.debug = status, error, description, debug


@bp.errorhandler(KinveyError)
def _kinvey_error(exc: KinveyError):
    return jsonify(error=exc.error, description=exc.description, debug=exc.debug), exc.status


def _mic():
    return current_app.extensions["mic"]


def _store() -> BaasStore:
    return current_app.extensions["baas"]


def _app_credentials(app_key: str) -> Environment:
    """Basic appKey:appSecret (without a service id), as the SDKs send for login and signup."""
    environment = _mic().clients.config.environment(app_key)
    auth = request.authorization
    if environment is None or auth is None or auth.type != "basic" or auth.username != app_key \
            or not secrets.compare_digest((auth.password or "").encode(), environment.app_secret.encode()):
        raise KinveyError(401, "InvalidCredentials", INVALID_CREDENTIALS, "the app key or secret is wrong")
    return environment


def _kinvey_auth() -> dict[str, Any]:
    body = request.get_json(silent=True)
    social = body.get("_socialIdentity") if isinstance(body, dict) else None
    auth = social.get("kinveyAuth") if isinstance(social, dict) else None
    if not isinstance(auth, dict) or not isinstance(auth.get("access_token"), str):
        raise KinveyError(400, "IncompleteRequestBody", "The request body is missing a required field",
                          "expected _socialIdentity.kinveyAuth.access_token")
    return auth


def _valid(access_digest: str, environment_key: str) -> ValidToken:
    valid = validate(_mic().vault, _mic().clients, access_digest)
    if valid is None:
        raise KinveyError(401, "InvalidCredentials", INVALID_CREDENTIALS,
                          "the MIC token is expired, revoked or unknown")
    if valid.client.environment.app_key != environment_key:
        environment = _mic().clients.config.environment(environment_key)
        if environment is None or not environment.shares_login_with(valid.client.service):
            raise KinveyError(401, "InvalidCredentials", INVALID_CREDENTIALS,
                              "the MIC token was issued for another app, through a service this one does not use")
    return valid


def _session(app_key: str) -> tuple[Session, str, ValidToken]:
    scheme, _, authtoken = request.headers.get("Authorization", "").partition(" ")
    session = _store().find_session(app_key, authtoken) if scheme == "Kinvey" and authtoken else None
    if session is None:
        raise KinveyError(401, "InvalidCredentials", INVALID_CREDENTIALS, "no such session")
    return session, authtoken, _valid(session.access_digest, app_key)


def _user_json(user: AppUser, authtoken: str) -> dict[str, Any]:
    profile = user.profile
    return {"_id": user.id, "username": profile["username"], "_acl": {"creator": user.id},
            "_kmd": {"lmt": profile["lmt"], "ect": profile["ect"], "llt": profile.get("llt"), "authtoken": authtoken},
            "_socialIdentity": profile["_socialIdentity"]}


def _social_identity(auth: dict[str, Any], valid: ValidToken) -> dict[str, Any]:
    """kinveyAuth as the backend keeps it: what the SDK sent, plus the allowed attributes."""
    identity = valid.grant.identity
    allowed = {name: identity.attributes[name] for name in valid.client.service.allowed_attributes
               if name in identity.attributes and name not in ("id", "audience")}
    echoed = {k: auth[k] for k in _ECHOED if k in auth}
    return {"kinveyAuth": {**echoed, **allowed, "id": identity.user_id, "audience": valid.token.client_id}}


def _log_in(app_key: str, *, signup: bool) -> tuple[Response, int, dict[str, str]]:
    _app_credentials(app_key)
    auth = _kinvey_auth()
    access_digest = digest(auth["access_token"])
    valid = _valid(access_digest, app_key)
    store, now = _store(), isoformat(_mic().vault.clock.now())
    identity_key = f"{valid.client.service.id}\n{valid.grant.identity.user_id}"
    user = store.find_user(app_key, identity_key)
    if signup and user is not None:
        raise KinveyError(409, "UserAlreadyExists", "This username is already taken. Please retry your request "
                                                    "with a different username")
    if user is None:
        user = store.create_user(app_key, identity_key, {"username": secrets.token_hex(16), "ect": now})
    user.profile.update({"_socialIdentity": _social_identity(auth, valid), "lmt": now, "llt": now})
    store.save_profile(user)
    return jsonify(_user_json(user, store.open_session(user, access_digest))), 201 if signup else 200, NO_STORE


@bp.post("/user/<app_key>/login")
def login(app_key: str):
    return _log_in(app_key, signup=False)


@bp.post("/user/<app_key>")
def signup(app_key: str):
    return _log_in(app_key, signup=True)


@bp.get("/user/<app_key>/_me")
def me(app_key: str):
    session, authtoken, _ = _session(app_key)
    return jsonify(_user_json(session.user, authtoken)), 200, NO_STORE


@bp.post("/user/<app_key>/_logout")
def logout(app_key: str):
    _, authtoken, _ = _session(app_key)
    _store().end_session(authtoken)
    return "", 204


@bp.get("/appdata/<app_key>/datalink-echo")
def datalink_echo(app_key: str):
    """The headers a data-link connector would receive for this user, per the service's mapping."""
    _, _, valid = _session(app_key)
    identity = valid.grant.identity
    values = {"client_token": base64.b64encode(str(identity.upstream_token.get("access_token", "")).encode()).decode(),
              "id": identity.user_id, "audience": valid.token.client_id}
    values |= {name: str(identity.attributes[name]) for name in valid.client.service.allowed_attributes
               if name in identity.attributes and name not in values}
    mapping = valid.client.service.datalink_header_mapping
    return jsonify(headers={header: values[attribute] for attribute, header in mapping.items() if attribute in values})


@bp.get("/appdata/<app_key>/<collection>", strict_slashes=False)  # kinvey-flex-sdk ends it with /
def collection(app_key: str, collection: str):
    """A protected data route: an empty collection, for a session that is still good."""
    _session(app_key)
    return jsonify([])
