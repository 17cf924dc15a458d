"""Malformed variants of a recorded request, as hypothesis strategies, each classified.

A variant is *bad* when RFC 6749 obliges the endpoint to refuse it: a required
parameter missing, empty or broken, any parameter repeated (3.1, 3.2), a body in a
type the endpoint does not read, or a request replayed after it used up what it
carried. The rest (an unknown parameter, which 3.1 says MUST be ignored, or a changed
optional one) may pass and owe only an answer that is not a 5xx.
"""
from __future__ import annotations

import json
from base64 import b64encode
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from hypothesis import strategies as st

from .context import SentRequest

#: what RFC 6749 section 4 makes each grant send besides grant_type
GRANT_PARAMETERS = {"authorization_code": ("code", "redirect_uri"), "password": ("username", "password"),
                    "refresh_token": ("refresh_token",)}
AUTHORIZATION = "Authorization"
#: escapes and bytes no decoder can read, by where the parameters travel
BROKEN = {"query": (b"%", b"%zz", b"%C3%28", b"%E2%82", b"%ff"),
          "form": (b"%", b"%zz", b"%C3%28", b"%E2%82", b"\xff"),
          "json": (b"\xff", b"\xc3\x28", b"\\ud800", b"\\x41")}
WRONG_CONTENT_TYPES = {"form": ("application/json", "text/plain", "multipart/form-data", None),
                       "json": ("application/x-www-form-urlencoded", "text/plain", None)}
TEXT = st.text(max_size=40) | st.text(st.characters(min_codepoint=0x80, codec="utf-8"), min_size=1, max_size=20)
JSON_NOT_STRING = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                   | st.lists(st.text(max_size=5), max_size=2) | st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@dataclass(frozen=True)
class Broken:
    """A value whose encoding breaks after ``text``: ``tail`` is sent as it is."""

    text: str
    tail: bytes


@dataclass(frozen=True, repr=False)
class Variant:
    """A request derived from the recorded one; ``bad`` when the endpoint must refuse it."""

    change: str
    bad: bool
    request: SentRequest

    def __repr__(self) -> str:
        return self.change  # what hypothesis shows of an example: the request may be huge


@dataclass(frozen=True)
class Recorded:
    """A recorded request taken apart: where its parameters travel, and them in order."""

    request: SentRequest
    carrier: str  # query, form or json
    params: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, request: SentRequest) -> "Recorded":
        content_type = header(request, "content-type") or ""
        if content_type.startswith("application/x-www-form-urlencoded"):
            text = request.body.decode("utf-8", errors="replace")
            return cls(request, "form", tuple(parse_qsl(text, keep_blank_values=True)))
        if content_type.startswith("application/json"):
            try:
                data = json.loads(request.body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                return cls(request, "json", tuple(data.items()))
        return cls(request, "query", tuple(parse_qsl(urlsplit(request.url).query, keep_blank_values=True)))

    def value(self, name: str) -> Any:
        return dict(self.params).get(name)

    def required(self) -> set[str]:
        """What RFC 6749 makes this request carry: its grant's parameters and the client's
        authentication at the token endpoint (3.2.1), the client and its redirect at the
        authorization endpoint (4.1.1; MIC has no default redirect URI)."""
        grant = self.value("grant_type")
        if grant is not None:
            authentication = {AUTHORIZATION} if header(self.request, AUTHORIZATION) else {"client_id", "client_secret"}
            wanted = {"grant_type", *GRANT_PARAMETERS.get(grant, ()), *authentication}
        else:
            wanted = {"response_type", "client_id", "redirect_uri"}
        return {name for name in wanted if name in dict(self.params) or header(self.request, name)}

    def with_params(self, params: list[tuple[str, Any]]) -> SentRequest:
        encoded = _encode(self.carrier, params)
        if self.carrier == "query":
            return replace(self.request, url=urlsplit(self.request.url)._replace(query=encoded.decode()).geturl())
        return replace(self.request, body=encoded)

    def with_header(self, name: str, value: str | None) -> SentRequest:
        headers = {k: v for k, v in self.request.headers.items() if k.lower() != name.lower()}
        return replace(self.request, headers=headers if value is None else headers | {name: value})


def header(request: SentRequest, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


def variants(recorded: Recorded, required: set[str]) -> st.SearchStrategy[Variant]:
    """Every kind of variant the recorded request allows, one change each."""
    params = list(recorded.params)
    names = list(dict.fromkeys(name for name, _ in params))
    texts = [name for name in names if isinstance(recorded.value(name), str)]

    def changed(name: str, value: Any) -> list[tuple[str, Any]]:
        return [(k, value if k == name else v) for k, v in params]

    kinds = [st.builds(lambda name, value: Variant(f"an unknown parameter {name!r} added", False,
                                                   recorded.with_params(params + [(name, value)])),
                       TEXT.map(lambda s: "x_" + s), TEXT)]
    if names:
        kinds += [
            st.sampled_from(names).map(lambda name: Variant(
                f"{name!r} left out", name in required,
                recorded.with_params([(k, v) for k, v in params if k != name]))),
            st.builds(lambda name, again: Variant(
                f"{name!r} sent twice" + (" (same value)" if again is None else f" (then as {again!r})"), True,
                recorded.with_params(params + [(name, recorded.value(name) if again is None else again)])),
                st.sampled_from(names), st.none() | TEXT),
        ]
    if texts:
        kinds += [
            st.tuples(st.sampled_from(texts), TEXT).filter(lambda c: c[1] != recorded.value(c[0])).map(
                lambda c: Variant(f"{c[0]!r} set to {c[1]!r}", c[0] in required, recorded.with_params(changed(*c)))),
            st.builds(lambda name, unit, size: Variant(
                f"{name!r} grown by {size} × {unit!r}", name in required,
                recorded.with_params(changed(name, recorded.value(name) + unit * size))),
                st.sampled_from(texts), st.sampled_from(["A", "é", "\u202e", "💥"]), st.integers(2**11, 2**12)),
            st.builds(lambda name, tail: Variant(
                f"{name!r} ending in the undecodable {tail!r}", name in required,
                recorded.with_params(changed(name, Broken(recorded.value(name), tail)))),
                st.sampled_from(texts), st.sampled_from(BROKEN[recorded.carrier])),
        ]
    if recorded.carrier == "json" and names:
        kinds.append(st.builds(lambda name, value: Variant(
            f"{name!r} set to the JSON {json.dumps(value)}", name in required, recorded.with_params(changed(name, value))),
            st.sampled_from(names), JSON_NOT_STRING))
    if recorded.carrier in WRONG_CONTENT_TYPES:
        kinds.append(st.sampled_from(WRONG_CONTENT_TYPES[recorded.carrier]).map(lambda kind: Variant(
            f"Content-Type {kind}" if kind else "no Content-Type", True,
            recorded.with_header("Content-Type", kind))))
    original = header(recorded.request, AUTHORIZATION)
    if original is not None:
        garbled = (st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), min_size=1, max_size=30)
                   | TEXT.filter(bool).map(lambda s: b64encode(s.encode()).decode())).map(lambda s: "Basic " + s)
        kinds.append((st.none() | garbled.filter(lambda value: value != original)).map(lambda value: Variant(
            f"no {AUTHORIZATION} header" if value is None else f"{AUTHORIZATION}: {value!r}",
            AUTHORIZATION in required, recorded.with_header(AUTHORIZATION, value))))
    return st.one_of(kinds)


def _encode(carrier: str, params: list[tuple[str, Any]]) -> bytes:
    if carrier == "json":
        return b"{" + b", ".join(_json(name) + b": " + _json(value) for name, value in params) + b"}"
    return b"&".join(_escaped(name) + b"=" + _escaped(value) for name, value in params)


def _escaped(value: str | Broken) -> bytes:
    if isinstance(value, Broken):
        return _escaped(value.text) + value.tail
    return quote(value, safe="").encode()


def _json(value: Any) -> bytes:
    if isinstance(value, Broken):
        return _json(value.text)[:-1] + value.tail + b'"'
    return json.dumps(value, ensure_ascii=False).encode()
