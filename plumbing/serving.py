"""Serving a WSGI server in the foreground until it is told to stop, for the ``python -m`` entry points."""
from __future__ import annotations

from typing import Protocol


class _Server(Protocol):
    def serve_forever(self) -> None: ...

    def server_close(self) -> None: ...


def serve_until_stopped(server: _Server) -> int:
    """Serve until Ctrl-C (a KeyboardInterrupt), then close the socket; the exit status, 0."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
