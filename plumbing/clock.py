"""The one clock every TTL reads.

Servers take a clock at construction and never call ``time.time()`` for an expiry, so
a test can move time for the whole fleet at once: fourteen days pass in no wall time.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""


class SystemClock:
    """Wall time, for servers that are not under test."""

    virtual = False

    def now(self) -> float:
        return time.time()


class VirtualClock:
    """Wall time shifted by an offset that tests move; optionally frozen.

    It keeps ticking with wall time by default, so a browser flow that takes a second
    still sees a second pass; ``freeze`` stops it for tests that check a boundary
    to the second.
    """

    virtual = True

    def __init__(self, start: float | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        wall = time.time()
        self._offset = 0.0 if start is None else start - wall
        self._frozen_at: float | None = (wall if start is None else float(start)) if frozen else None

    def now(self) -> float:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock only moves forward by advance(); use set() to go back")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        return self.now()

    def set(self, epoch: float) -> float:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = float(epoch)
            else:
                self._offset = float(epoch) - time.time()
        return self.now()

    def freeze(self) -> None:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset

    def thaw(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None


def isoformat(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def parse_instant(value: float | int | str) -> float:
    """An epoch number or an ISO 8601 instant (``Z`` or offset) as epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("expected epoch seconds or an ISO 8601 instant")
    if isinstance(value, (int, float)):
        return float(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise ValueError(f"not an ISO 8601 instant: {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"an instant needs a time zone (e.g. Z): {value!r}")
    return parsed.timestamp()
