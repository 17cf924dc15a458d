"""A curl command that replays a request the app sent, with its secrets left out.

Secrets never reach a report, so each secret header or form field becomes a shell
variable (``"$PASSWORD"``) that the reader sets before running the command; the first
line names those variables with the masked digest of the value that was sent, so the
reader can tell which value belongs there.
"""
from __future__ import annotations

import json
import re
import shlex
from urllib.parse import unquote_plus

from plumbing.masking import SECRET_HEADERS, is_secret_name, mask, mask_fields

from .context import SentRequest

#: headers curl sets by itself, or that only describe this one connection
_IMPLICIT = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent"})


def as_curl(request: SentRequest) -> str:
    """The command, preceded by a comment line when it needs variables set."""
    variables: dict[str, str] = {}

    def secret(name: str, value: str) -> str:
        variable = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "SECRET"
        variables[variable] = mask(value)
        return f'"${variable}"'

    parts = ["curl", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers.items():
        if name.lower() in _IMPLICIT:
            continue
        shown = (shlex.quote(f"{name}: ") + secret(name, value) if name.lower() in SECRET_HEADERS
                 else shlex.quote(f"{name}: {value}"))
        parts += ["-H", shown]
    parts += _body(request, secret)
    command = " ".join(parts)
    if not variables:
        return command
    listed = ", ".join(f"{name} (sent: {digest})" for name, digest in variables.items())
    return f"# set {listed}\n{command}"


def _body(request: SentRequest, secret) -> list[str]:
    if not request.body:
        return []
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    text = request.body.decode("utf-8", errors="replace")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return ["--data-binary", _form(text, secret)]
    if content_type.startswith("application/json"):
        try:
            return ["--data", shlex.quote(json.dumps(mask_fields(json.loads(text))))]
        except ValueError:
            pass
    return ["--data-binary", shlex.quote(text)]


def _form(text: str, secret) -> str:
    """The form body byte for byte (a fuzzed body may be malformed on purpose), secrets as variables.

    A variable stands for the value as it was sent, percent-encoded.
    """
    shown, literal = [], ""
    for index, pair in enumerate(text.split("&")):
        raw_name, equals, raw_value = pair.partition("=")
        literal += "&" if index else ""
        if equals and is_secret_name(unquote_plus(raw_name)):
            shown += [shlex.quote(literal + raw_name + equals), secret(unquote_plus(raw_name), unquote_plus(raw_value))]
            literal = ""
        else:
            literal += pair
    return "".join(shown + [shlex.quote(literal)] if literal else shown)
