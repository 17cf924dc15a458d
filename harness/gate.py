"""The gate: a reverse proxy put before a service the harness does not own (a vendor's custom auth service).

It passes every request on to the backend unchanged and its answer back, and wears the
control surface every mock has (plumbing.control): faults (a delay, a dropped
connection, a canned answer such as a malformed body) strike before the backend is
asked, and the request log shows what the MIC sent, secrets masked. So scenarios can
slow, break and watch any service the same way, and the service needs no test hooks.
"""
from __future__ import annotations

import ssl
from typing import Callable, Iterable

import httpx2
from werkzeug.wrappers import Request, Response

from plumbing.clock import Clock
from plumbing.control import ControlSurface

#: headers of one connection, not of the message (RFC 9110 7.6.1), and those httpx sets itself
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                         "upgrade", "host", "content-length"})
#: longer than any timeout a MIC gives a custom service: the MIC's own bound is what scenarios test
BACKEND_TIMEOUT = 60.0


def create_app(backend: str, clock: Clock, *, transport: httpx2.BaseTransport | None = None,
               trust: ssl.SSLContext | None = None) -> Callable[[dict, Callable], Iterable[bytes]]:
    """The gate before ``backend`` (a base URL), with its control surface on ``clock``; ``trust``
    verifies an HTTPS backend (default: the system's CAs)."""
    client = httpx2.Client(base_url=backend.rstrip("/"), transport=transport, timeout=BACKEND_TIMEOUT,
                           follow_redirects=False, verify=trust or True)

    def forward(environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
        path = environ.get("RAW_URI") or request.full_path.rstrip("?")
        try:
            answer = client.request(request.method, path, content=request.get_data(), headers=headers)
        except httpx2.HTTPError as exc:
            # what a reverse proxy says when the service behind it is not there (RFC 9110 15.6.3)
            response = Response(f"the gate could not reach the service: {type(exc).__name__}", status=502,
                                mimetype="text/plain")
            return response(environ, start_response)
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}]
        return Response(answer.content, status=answer.status_code, headers=kept)(environ, start_response)

    surface = ControlSurface(clock)
    return surface.wrap(forward)
