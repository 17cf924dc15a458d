"""Faults a test arms on one server: a canned answer, a delay, or a dropped connection.

A fault matches requests by method and a glob on the path, and lasts for a number of
requests (``times``) or until it is cleared.
"""
from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterable

SPEC_KEYS = {"path", "method", "status", "body", "headers", "delay", "drop", "times"}
MAX_DELAY = 120.0


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    id: str
    path: str
    method: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    remaining: int | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and fnmatchcase(path, self.path)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "method": self.method, "status": self.status,
                "body": self.body, "headers": self.headers, "delay": self.delay, "drop": self.drop,
                "remaining": self.remaining, "hits": self.hits}

    def apply(self, environ: dict, start_response: Callable, app: Callable) -> Iterable[bytes]:
        """Answer in the fault's stead: wait, then drop, answer canned, or pass on late."""
        if self.delay:
            time.sleep(self.delay)  # network latency is wall time, not a TTL
        if self.drop:
            _drop_connection(environ)
            raise ConnectionAbortedError("connection dropped by an armed fault")
        if self.status is None:
            return app(environ, start_response)
        if isinstance(self.body, (dict, list)):
            payload, content_type = json.dumps(self.body).encode(), "application/json"
        else:
            payload, content_type = str(self.body or "").encode(), "text/plain; charset=utf-8"
        headers = {"Content-Type": content_type, **self.headers, "Content-Length": str(len(payload))}
        start_response(f"{self.status} FAULT", list(headers.items()))
        return [payload]


def _drop_connection(environ: dict) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class FaultBook:
    """The faults armed on one server, in arming order; the first that matches wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def arm(self, spec: dict[str, Any]) -> Fault:
        fault = self._parse(spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The fault that answers this request, counting it against the fault's budget."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def armed(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def get(self, fault_id: str) -> Fault | None:
        with self._lock:
            return next((f for f in self._faults if f.id == fault_id), None)

    def clear(self, fault_id: str | None = None) -> int:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if fault_id is not None and f.id != fault_id]
            return before - len(self._faults)

    def _parse(self, spec: dict[str, Any]) -> Fault:
        self._check_keys(spec, SPEC_KEYS)
        common = self._common(spec)
        status = spec.get("status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                                   or not 100 <= status <= 599):
            raise FaultSpecError("status must be an HTTP status code (100-599)")
        headers = spec.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise FaultSpecError("headers must map header names to strings")
        if status is None and not common["drop"] and not common["delay"]:
            raise FaultSpecError("a fault needs a status, a delay or drop: true")
        return Fault(id=self.next_id(), status=status, body=spec.get("body"), headers=headers, **common)

    def next_id(self) -> str:
        return str(next(self._ids))

    @staticmethod
    def _check_keys(spec: dict[str, Any], allowed: set[str]) -> None:
        unknown = set(spec) - allowed
        if unknown:
            raise FaultSpecError(f"unknown fault field(s) {sorted(unknown)}; expected some of {sorted(allowed)}")

    @staticmethod
    def _common(spec: dict[str, Any]) -> dict[str, Any]:
        """What every kind of fault has: where it strikes, a delay, a drop, how many times."""
        path = spec.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise FaultSpecError("path is required: a request path or glob starting with '/'")
        delay = spec.get("delay", 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= MAX_DELAY:
            raise FaultSpecError(f"delay must be a number of seconds from 0 to {MAX_DELAY:g}")
        drop = spec.get("drop", False)
        if not isinstance(drop, bool):
            raise FaultSpecError("drop must be true or false")
        times = spec.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise FaultSpecError("times must be a whole number of requests, 1 or more (leave it out: until cleared)")
        method = spec.get("method")
        if method is not None and not isinstance(method, str):
            raise FaultSpecError("method must be an HTTP method name")
        return {"path": path, "method": method.upper() if method else None, "delay": float(delay), "drop": drop,
                "remaining": times}
