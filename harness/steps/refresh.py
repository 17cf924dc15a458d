"""``refresh``: the app refreshes its MIC tokens the way the Kinvey SDKs do (RFC 6749 section 6).

The SDKs post to the unversioned token path with ``redirect_uri=undefined``; the step
does the same unless told otherwise, so a MIC that rejects the SDKs' quirk fails here.
"""
from __future__ import annotations

from ..context import RunContext
from .token import Token

_OWN = ("grant", "code", "user", "username", "password")


class Refresh(Token):
    SCHEMA = {**Token.SCHEMA, "required": [],
              "properties": {k: v for k, v in Token.SCHEMA["properties"].items() if k not in _OWN}}

    def run(self, ctx: RunContext) -> None:
        Token({"version": "none", "redirect_uri": "undefined", **self.args, "grant": "refresh_token"}).run(ctx)
