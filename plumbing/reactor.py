"""The process's one Twisted reactor, running on its own thread.

Twisted's reactor can run only once per process, so every Twisted server of the
fleet (the LDAP mocks) shares this one; it starts on first use and lives as long as
the process. Other threads reach it only through ``call``.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

_lock = threading.Lock()
_thread: threading.Thread | None = None


def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``function`` on the reactor thread and return its result (waiting for a Deferred)."""
    from twisted.internet import reactor
    from twisted.internet.threads import blockingCallFromThread

    _ensure_running(reactor)
    return blockingCallFromThread(reactor, function, *args, **kwargs)


def _ensure_running(reactor: Any) -> None:
    global _thread
    with _lock:
        if _thread is not None:
            return
        started = threading.Event()
        reactor.callWhenRunning(started.set)
        _thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False},
                                   name="twisted-reactor", daemon=True)
        _thread.start()
        if not started.wait(timeout=10):
            raise RuntimeError("the Twisted reactor did not start")
