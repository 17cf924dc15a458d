"""The control surface every server exposes under ``/_control/`` in test mode.

It is WSGI middleware, so the MIC (Flask), the HTTP mocks and the small control
apps beside non-HTTP mocks all get the same clock, fault and request-log endpoints.
Test mode is chosen in code when the server is built; nothing over HTTP can turn it
on, and outside it the middleware is not installed at all, so the routes are 404s.
"""
from __future__ import annotations

import io
import json
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import safejson
from .clock import Clock, isoformat, parse_instant
from .faults import FaultBook, FaultSpecError
from .masking import mask_fields, mask_headers
from .requestlog import RequestLog

PREFIX = "/_control"
HEALTH_PATH = f"{PREFIX}/health"
LOGGED_BODY_LIMIT = 64 * 1024
#: a body larger than this is left to the app to read (and refuse) instead of being buffered for the log
BUFFERED_BODY_LIMIT = 1024 * 1024

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class ControlError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


class ControlSurface:
    """Clock, faults and request log of one server, and the middleware that serves them."""

    def __init__(self, clock: Clock, *, log_limit: int = 10_000) -> None:
        self.clock = clock
        self.faults = FaultBook()
        self.requests = RequestLog(clock, limit=log_limit)
        self._extensions: dict[str, Callable[[Request], tuple[int, Any]]] = {}
        self._clears: list[Callable[[], int]] = []
        self._routes = Map([
            Rule(HEALTH_PATH, endpoint="health", methods=["GET"]),
            Rule(f"{PREFIX}/clock", endpoint="clock", methods=["GET", "POST"]),
            Rule(f"{PREFIX}/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
            Rule(f"{PREFIX}/faults/<fault_id>", endpoint="fault", methods=["GET", "DELETE"]),
            Rule(f"{PREFIX}/requests", endpoint="requests", methods=["GET", "DELETE"]),
        ])

    def extend(self, name: str, handler: Callable[[Request], tuple[int, Any]],
               clear: Callable[[], int] | None = None) -> None:
        """A server's own control endpoint at ``/_control/<name>`` (a mock's tampering, say).

        ``handler(request)`` answers ``(status, payload)`` and may raise ControlError.
        What it arms is a kind of fault: ``clear`` drops it when the faults are cleared
        (the harness does so after each cell), so nothing leaks into the next cell.
        """
        self._extensions[name] = handler
        self._routes.add(Rule(f"{PREFIX}/{name}", endpoint=f"extension:{name}", methods=["GET", "POST", "DELETE"]))
        if clear is not None:
            self._clears.append(clear)

    def wrap(self, app: WSGIApp) -> WSGIApp:
        def middleware(environ: dict, start_response: Callable) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == PREFIX or path.startswith(PREFIX + "/"):
                return self._serve_control(environ, start_response)
            self._buffer_body(environ)
            entry = self.requests.record(_describe_request(environ))
            fault = self.faults.take(environ.get("REQUEST_METHOD", "GET"), path)

            def recording_start_response(status: str, headers: list, exc_info=None):
                entry["status"] = int(status.split(" ", 1)[0])
                entry["answered_monotonic"] = time.monotonic()
                if fault is not None:
                    entry["fault"] = fault.id
                return start_response(status, headers, exc_info)

            if fault is not None:
                return fault.apply(environ, recording_start_response, app)
            return app(environ, recording_start_response)

        return middleware

    # -- the control API -------------------------------------------------------------

    def _serve_control(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self._routes.bind_to_environ(environ).match()
            handler = self._extensions[endpoint[10:]] if endpoint.startswith("extension:") \
                else getattr(self, f"_on_{endpoint}")
            status, payload = handler(request, **args)
        except ControlError as exc:
            status, payload = exc.status, {"error": "invalid_request", "error_description": exc.description}
        except NotFound:
            status, payload = 404, {"error": "not_found", "error_description": f"no control endpoint {request.path}"}
        except HTTPException as exc:
            status, payload = exc.code or 400, {"error": "invalid_request", "error_description": exc.description}
        response = Response(json.dumps(payload), status=status, mimetype="application/json")
        return response(environ, start_response)

    def _on_health(self, request: Request) -> tuple[int, dict]:
        return 200, {"ok": True}

    def _on_clock(self, request: Request) -> tuple[int, dict]:
        if request.method == "POST":
            body = json_object(request)
            if not getattr(self.clock, "virtual", False):
                raise ControlError(409, "this server's clock is not virtual")
            unknown = set(body) - {"advance", "set", "freeze"}
            if unknown or not body:
                raise ControlError(400, "expected one or more of: advance (seconds), set (instant), freeze (bool)")
            try:
                if "set" in body:
                    self.clock.set(parse_instant(body["set"]))
                if "advance" in body:
                    seconds = body["advance"]
                    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                        raise ValueError("advance takes a number of seconds")
                    self.clock.advance(seconds)
            except ValueError as exc:
                raise ControlError(400, str(exc)) from None
            if "freeze" in body:
                if not isinstance(body["freeze"], bool):
                    raise ControlError(400, "freeze takes true or false")
                if body["freeze"]:
                    self.clock.freeze()
                else:
                    self.clock.thaw()
        return 200, self.clock_state()

    def clock_state(self) -> dict[str, Any]:
        now = self.clock.now()
        return {"now": now, "iso": isoformat(now), "virtual": getattr(self.clock, "virtual", False),
                "frozen": getattr(self.clock, "frozen", False)}

    def _on_faults(self, request: Request) -> tuple[int, Any]:
        if request.method == "POST":
            try:
                fault = self.faults.arm(json_object(request))
            except FaultSpecError as exc:
                raise ControlError(400, str(exc)) from None
            return 201, fault.describe()
        if request.method == "DELETE":
            return 200, {"cleared": self.faults.clear() + sum(clear() for clear in self._clears)}
        return 200, {"faults": [fault.describe() for fault in self.faults.armed()]}

    def _on_fault(self, request: Request, fault_id: str) -> tuple[int, Any]:
        fault = self.faults.get(fault_id)
        if fault is None:
            raise ControlError(404, f"no armed fault {fault_id}")
        if request.method == "DELETE":
            self.faults.clear(fault_id)
            return 200, {"cleared": 1}
        return 200, fault.describe()

    def _on_requests(self, request: Request) -> tuple[int, Any]:
        if request.method == "DELETE":
            return 200, {"cleared": self.requests.clear()}
        args = request.args
        try:
            since = int(args.get("since", 0))
            limit = int(args["limit"]) if "limit" in args else None
        except ValueError:
            raise ControlError(400, "since and limit take whole numbers") from None
        entries = self.requests.select(path=args.get("path"), method=args.get("method"),
                                       since=since, limit=limit)
        return 200, {"requests": entries}

    @staticmethod
    def _buffer_body(environ: dict) -> None:
        """Read the body once so both the log and the app can see it (an oversized one: the app only)."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > BUFFERED_BODY_LIMIT:
            environ["plumbing.body"] = b""
            return
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["plumbing.body"] = body


def json_object(request: Request) -> dict:
    try:
        body = safejson.loads(request.get_data() or b"{}")
    except ValueError:
        raise ControlError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _describe_request(environ: dict) -> dict[str, Any]:
    """What the log keeps of a request: secrets masked, bodies parsed when they are forms or JSON."""
    headers = {key[5:].replace("_", "-").title(): value
               for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    query = {k: v if len(v) > 1 else v[0]
             for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
    return {
        "method": environ.get("REQUEST_METHOD", "GET"),
        "path": environ.get("PATH_INFO", ""),
        "query": mask_fields(query),
        "headers": mask_headers(headers),
        "body": describe_body(environ.get("CONTENT_TYPE", ""), environ.get("plumbing.body", b"")),
    }


def describe_body(content_type: str, body: bytes) -> Any:
    """A body as logs and reports keep it: forms and JSON parsed, their secrets masked; else text."""
    if not body:
        return None
    body = body[:LOGGED_BODY_LIMIT]
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return mask_fields({k: v if len(v) > 1 else v[0] for k, v in form.items()})
    if content_type.startswith("application/json"):
        try:
            return mask_fields(safejson.loads(body))
        except ValueError:  # unreadable, or nested too deep to walk: kept as text
            pass
    return body.decode("utf-8", "replace")


def install(flask_app: Any, clock: Clock) -> ControlSurface:
    """Put the control surface in front of a Flask app; call only in test mode."""
    surface = ControlSurface(clock)
    flask_app.wsgi_app = surface.wrap(flask_app.wsgi_app)
    flask_app.extensions["control_surface"] = surface
    return surface
