"""A custom auth service that speaks Kinvey's FlexAuth contract: start here to write your own.

The MIC posts ``{"username", "password", "options"}`` as JSON to ``/_auth/<handler>``
with the shared secret in ``X-Auth-Key``. This service checks the key, then the
credentials against its SQLite users (salted scrypt hashes), and answers:

- 200 ``{"authenticated": true, "token": {...}, <the user's attributes>}``;
- 401 ``{"error": "access_denied", "error_description": ...}`` for a missing or wrong key,
  wrong credentials, a name or password it would never accept, or a user who needs a
  second factor;
- 400 (a body that is not the contract's JSON) or 413 (a body over 16 KiB), with the same
  error shape; never a stack trace.

It imports nothing of the conformance project: copy the directory and change it.
"""
from __future__ import annotations

import hmac
import json
import logging
import secrets
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from .users import User, UserStore, normalized

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_USERNAME = 256
MAX_PASSWORD = 1024
NOT_RIGHT = "The username or password is not right."
SECOND_FACTOR = "This account requires a second factor; a password alone cannot log it in."


class Refusal(Exception):
    """An answer in the contract's error shape."""

    def __init__(self, status: int, description: str, error: str = "access_denied") -> None:
        super().__init__(description)
        self.status, self.description, self.error = status, description, error


def create_app(database: str, auth_key: str, handler: str = "login") -> Flask:
    """The service: users in the SQLite file ``database``, the MIC's shared ``auth_key``, one ``handler``."""
    if not auth_key:
        raise ValueError("the service needs the auth key the MIC will send (X-Auth-Key)")
    users = UserStore(database)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["flexauth_users"] = users

    @app.post("/_auth/<name>")
    def authenticate(name: str):
        if not hmac.compare_digest(request.headers.get("X-Auth-Key", "").encode(), auth_key.encode()):
            raise Refusal(401, "The X-Auth-Key header is missing or wrong.")
        if name != handler:
            raise Refusal(404, f"No auth handler is registered by that name (this service has '{handler}').")
        username, password = _credentials(_body())
        user = _check(users, username, password)
        token = {"access_token": secrets.token_urlsafe(32), "token_type": "Bearer"}
        return jsonify({**user.attributes, "username": user.username, "authenticated": True, "token": token})

    @app.errorhandler(Refusal)
    def refused(exc: Refusal):
        return jsonify(error=exc.error, error_description=exc.description), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        description = "The request body is too large." if exc.code == 413 else exc.description
        return jsonify(error="access_denied", error_description=description), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("the auth handler failed")
        return jsonify(error="server_error", error_description="The auth service failed to check the login."), 500

    return app


def _body() -> dict[str, Any]:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    if request.mimetype != "application/json":
        raise Refusal(400, "The body must be JSON (Content-Type: application/json).")
    try:
        body = json.loads(request.get_data().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refusal(400, "The body is not valid JSON in UTF-8.") from None
    if not isinstance(body, dict):
        raise Refusal(400, "The body must be a JSON object: {username, password, options}.")
    return body


def _credentials(body: dict[str, Any]) -> tuple[str, str]:
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise Refusal(400, "username and password must both be given, as strings.")
    if "options" in body and not isinstance(body["options"], dict):
        raise Refusal(400, "options must be a JSON object.")
    try:
        username.encode("utf-8"), password.encode("utf-8")
    except UnicodeEncodeError:  # JSON can carry lone surrogates, which no text may hold
        raise Refusal(400, "username and password must be valid Unicode text.") from None
    return username, password


def _check(users: UserStore, username: str, password: str) -> User:
    name = normalized(username)
    if not name or not password or len(name) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        raise Refusal(401, NOT_RIGHT)
    user = users.check(name, password)
    if user is None:
        raise Refusal(401, NOT_RIGHT)
    if user.mfa_required:  # told only to whoever knows the password
        raise Refusal(401, SECOND_FACTOR)
    return user
