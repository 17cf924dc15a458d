"""The HTTP exchanges of one matrix cell, recorded for the report's sequence diagram.

Three sources: the app's calls and the HTTP driver's (httpx event hooks), the real
browser's (Playwright responses), and the back channel the app never sees (the MIC
calling an identity provider), read once per cell from the request logs of the servers
behind the MIC. Everything is masked as it is recorded. Times are this machine's
monotonic clock, so exchanges from every source interleave as they happened; the back
channel is placed only when its servers run on this machine (as the embedded fleet does).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2

from plumbing.clock import SystemClock
from plumbing.control import PREFIX as CONTROL_PREFIX, describe_body
from plumbing.masking import is_secret_name, mask, mask_header

from .target import Target

#: what the harness's own HTTP clients send, so the servers' logs tell them from the MIC
USER_AGENT = f"mic-harness/{version('mic-conformance')}"
APP, BROWSER, MIC, BAAS, CALLBACK = "App", "Browser", "MIC", "BaaS", "App callback"
#: the Kinvey BaaS API's roots, for a BaaS served at the MIC's own origin
BAAS_PATHS = ("/user/", "/appdata/", "/blob/", "/rpc/")
JSON = "application/json"
_URL_HEADERS = frozenset({"location", "referer", "content-location"})


@dataclass
class Exchange:
    """One request and its answer (``status`` None: none came); seconds since the cell began."""

    source: str
    target: str
    method: str
    url: str
    started: float
    ended: float
    status: int | None = None
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)


class Participants:
    """Who is behind a URL: the MIC, the BaaS, a server by its control surface's name, the app's redirect URI."""

    def __init__(self, target: Target) -> None:
        self._names = {_origin(url): name for name, url in target.surfaces.items()}
        self._names |= {_origin(target.redirect_uri): CALLBACK, _origin(target.baas): BAAS, _origin(target.mic): MIC}
        self._baas_at_mic = _origin(target.baas) == _origin(target.mic)
        #: the servers behind the MIC whose request logs show its back channel
        self.upstreams = {name: url for name, url in target.surfaces.items() if self.of(url) != MIC}

    def of(self, url: str) -> str:
        parts = urlsplit(url)
        name = self._names.get(_origin(url), parts.netloc)
        if name == MIC and self._baas_at_mic and parts.path.startswith(BAAS_PATHS):
            return BAAS
        return name


class Recorder:
    """The exchanges of one cell as they happen; ``finish`` adds the back channel and sorts them."""

    def __init__(self, participants: Participants) -> None:
        self.participants = participants
        self.began = time.monotonic()
        #: Chromium reports wall-clock times; this turns them into monotonic ones
        self._wall_offset = SystemClock().now() - self.began
        self._exchanges: list[Exchange] = []
        self._sent: dict[int, tuple[httpx2.Request, str, float]] = {}
        self._browsed: list[tuple[float, Any]] = []
        self._agents = {USER_AGENT}

    def hooks(self, source: str) -> dict[str, list[Callable]]:
        """httpx event hooks recording a client's exchanges as sent by ``source`` (control calls left out)."""
        def sent(request: httpx2.Request) -> None:
            if not request.url.path.startswith(CONTROL_PREFIX + "/"):
                self._sent[id(request)] = (request, source, time.monotonic())

        def received(response: httpx2.Response) -> None:
            pending = self._sent.pop(id(response.request), None)
            if pending is not None:
                content_type = _content_type(response.headers)
                body = masked_body(content_type, response.read()) if content_type.startswith(JSON) else None
                self._add_httpx(*pending, response.status_code,
                                {"headers": masked_headers(response.headers), "body": body})
        return {"request": [sent], "response": [received]}

    def browsed(self, answer: Any) -> None:
        """A Playwright ``response`` (or a failed ``request``) of the browser; converted at ``finish``."""
        self._browsed.append((time.monotonic(), answer))

    def finish(self, logs: dict[str, list[dict[str, Any]]]) -> list[Exchange]:
        """The cell's exchanges in order, with ``logs`` (server name -> request log entries) as back channel."""
        for request, source, started in self._sent.values():
            self._add_httpx(request, source, started, None, {})
        for seen, answer in self._browsed:
            self._add_browsed(seen, answer)
        for name, entries in logs.items():
            for entry in entries:
                self._add_logged(name, entry)
        return sorted(self._exchanges, key=lambda e: (e.started, e.ended))

    def _add(self, source: str, url: str, method: str, started: float, ended: float, status: int | None,
             request: dict[str, Any], response: dict[str, Any]) -> None:
        self._exchanges.append(Exchange(source, self.participants.of(url), method, mask_url(url),
                                        round(started - self.began, 6), round(ended - self.began, 6), status,
                                        request, response))

    def _add_httpx(self, request: httpx2.Request, source: str, started: float, status: int | None,
                   answer: dict[str, Any]) -> None:
        self._add(source, str(request.url), request.method, started, time.monotonic(), status,
                  {"headers": masked_headers(request.headers),
                   "body": masked_body(_content_type(request.headers), request.read())}, answer)

    def _add_browsed(self, seen: float, answer: Any) -> None:
        failed = not hasattr(answer, "status")
        request = answer if failed else answer.request
        timing = request.timing
        started = timing["startTime"] / 1000 - self._wall_offset if timing.get("startTime", -1) > 0 else seen
        ended = started + max(timing.get("responseStart", -1), 0) / 1000
        self._agents.add(request.headers.get("user-agent", ""))
        response = ({"failure": request.failure} if failed
                    else {"headers": masked_headers(answer.headers)})
        body = request.post_data_buffer or b""
        self._add(BROWSER, request.url, request.method, started, ended, None if failed else answer.status,
                  {"headers": masked_headers(request.headers),
                   "body": masked_body(request.headers.get("content-type", ""), body)}, response)

    def _add_logged(self, name: str, entry: dict[str, Any]) -> None:
        """A request a server behind the MIC received during the cell from anyone but this harness."""
        headers = entry.get("headers", {})
        received = entry.get("received_monotonic")
        if received is None or received < self.began or headers.get("User-Agent") in self._agents:
            return
        url = self.participants.upstreams[name] + entry["path"]
        if entry.get("query"):
            url += "?" + urlencode(entry["query"], doseq=True, safe="*")
        body = entry.get("body")
        if isinstance(body, str):
            body = f"({len(body)} characters of {headers.get('Content-Type') or 'unknown type'})"
        self._exchanges.append(Exchange(
            MIC, name, entry["method"], url, round(received - self.began, 6),
            round(entry.get("answered_monotonic", received) - self.began, 6), entry.get("status"),
            {"headers": headers, "body": body}, {"fault": entry["fault"]} if entry.get("fault") else {}))


def read_logs(http: httpx2.Client, participants: Participants, marks: dict[str, int],
              names: list[str]) -> dict[str, list[dict]]:
    """The request log entries of the named servers behind the MIC since ``marks`` (server -> last seq read).

    One call per server and cell; ``marks`` moves on, so each entry is read once.
    """
    logs = {}
    for name in names:
        if name not in participants.upstreams:
            continue
        try:
            response = http.get(f"{participants.upstreams[name]}{CONTROL_PREFIX}/requests",
                                params={"since": marks.get(name, 0)})
        except httpx2.HTTPError:
            continue
        if response.status_code == 200:
            logs[name] = response.json()["requests"]
            if logs[name]:
                marks[name] = logs[name][-1]["seq"]
    return logs


def mask_url(url: str) -> str:
    """The URL with the values of secret-named query (and fragment) parameters masked."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=_mask_params(parts.query), fragment=_mask_params(parts.fragment)))


def masked_headers(headers: Any) -> dict[str, str]:
    """Secret headers masked, and the secrets in headers that carry a URL (``Location``)."""
    return {name: mask_url(value) if name.lower() in _URL_HEADERS else mask_header(name, value)
            for name, value in headers.items()}


def masked_body(content_type: str, body: bytes) -> Any:
    """A form or JSON body, its secrets masked; of any other body, only its size and type."""
    described = describe_body(content_type, body)
    if isinstance(described, str):
        return f"({len(body)} bytes of {content_type or 'unknown type'})"
    return described


def _mask_params(text: str) -> str:
    if "=" not in text:
        return text
    pairs = parse_qsl(text, keep_blank_values=True)
    return urlencode([(k, mask(v) if is_secret_name(k) and v else v) for k, v in pairs], safe="*")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _content_type(headers: Any) -> str:
    return headers.get("content-type", "")
