"""Graph API errors, as Graph answers them: ``{"error": {message, type, code,
error_subcode, fbtrace_id}}``, with the codes Graph uses (190 for access tokens, with a
subcode saying why; 100 for a bad parameter; 101 for an unknown app; 1 for a wrong
app secret; 2500 for a call that needs a token)."""
from __future__ import annotations

import secrets

from flask import Response, jsonify

#: error_subcode of code 190: why an access token is not good
EXPIRED = 463
PASSWORD_CHANGED = 460
NOT_AUTHORIZED = 458  # the user removed the app (deauthorized it)
#: error_subcode of code 100 at the code exchange
CODE_EXPIRED = 36007
REDIRECT_MISMATCH = 36008
CODE_USED = 36009


class GraphError(Exception):
    def __init__(self, message: str, *, code: int, subcode: int | None = None,
                 kind: str = "OAuthException", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.subcode, self.kind, self.status = message, code, subcode, kind, status

    def body(self) -> dict:
        error = {"message": self.message, "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = secrets.token_urlsafe(8)
        return {"error": error}

    def response(self) -> tuple[Response, int]:
        response = jsonify(self.body())
        if self.code == 190:  # as Graph does: the bearer's challenge names the token error
            response.headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{self.message}"'
        return response, self.status


def bad_parameter(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(message, code=100, subcode=subcode)


def invalid_token(message: str = "Invalid OAuth access token.", subcode: int | None = None) -> GraphError:
    return GraphError(message, code=190, subcode=subcode)
