"""What a server received, kept for tests to inspect (secrets already masked).

Besides the target's (possibly virtual) ``time``, an entry has ``received_monotonic``,
the machine's monotonic clock, so a harness on the same machine can place it among the
requests it made itself (a report's sequence diagram).
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from fnmatch import fnmatchcase
from typing import Any

from .clock import Clock


class RequestLog:
    def __init__(self, clock: Clock, *, limit: int = 10_000) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep an entry; the caller may still fill in its answer (``status``)."""
        with self._lock:
            entry = {"seq": next(self._seq), "time": self._clock.now(), "received_monotonic": time.monotonic(),
                     **entry, "status": None}
            self._entries.append(entry)
        return entry

    def select(self, *, path: str | None = None, method: str | None = None,
               since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Entries after sequence number ``since``, oldest first; ``path`` may be a glob."""
        with self._lock:
            entries = [dict(e) for e in self._entries
                       if e["seq"] > since
                       and (path is None or fnmatchcase(e["path"], path))
                       and (method is None or e["method"] == method.upper())]
        return entries[-limit:] if limit else entries

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
        return count
