"""Run a set of servers in this process on free loopback ports.

Each member is built by a factory that receives the URLs of every member, so servers
that must know each other (the MIC and the IdPs it brokers to, each registered with
the other's redirect URL) are wired at start-up without fixed ports. Sockets are bound
first, so the URLs are real before any factory runs. WSGI members are served by
threads; Twisted members (``add_twisted``) listen on the process's one reactor thread.
"""
from __future__ import annotations

import http.client
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import reactor
from .control import HEALTH_PATH
from .tls import LocalTLS

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
Factory = Callable[[dict[str, str]], WSGIApp]


class FleetError(RuntimeError):
    pass


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (the control surface keeps those)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def version_string(self) -> str:
        return "Werkzeug"  # no Werkzeug or Python version for a probe to match against

    def log(self, type: str, message: str, *args: object) -> None:
        getattr(log, type if type in ("info", "warning", "error") else "info")(message, *args)


def _not_ready(environ: dict, start_response: Callable) -> Iterable[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@dataclass
class _Member:
    name: str
    factory: Factory
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None


class _LateFactory:
    """A Twisted server factory that can listen before the real one is built."""

    def __init__(self) -> None:
        self.real = None

    def doStart(self) -> None:
        """The real factory is started by the fleet once it is built."""

    def doStop(self) -> None:
        """The real factory is stopped by the fleet."""

    def buildProtocol(self, addr):
        return None if self.real is None else self.real.buildProtocol(addr)


@dataclass
class _TwistedMember:
    name: str
    factory: Callable[[dict[str, str]], object]
    scheme: str
    late: _LateFactory = field(default_factory=_LateFactory)
    port: object | None = None


@dataclass
class Fleet:
    host: str = "127.0.0.1"
    ready_timeout: float = 10.0
    #: serve every WSGI member over HTTPS with this local CA's certificate
    tls: LocalTLS | None = None
    #: members served elsewhere, by name: never built or started here, but their URL is
    #: what the other members' factories see (a vendor's server standing in for a mock)
    external: dict[str, str] = field(default_factory=dict)
    #: fixed ports, by member name (others get a free one): for a server registered elsewhere by URL
    ports: dict[str, int] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict, init=False)
    _members: dict[str, _Member] = field(default_factory=dict, init=False, repr=False)
    _twisted: dict[str, _TwistedMember] = field(default_factory=dict, init=False, repr=False)
    _apps: dict[str, WSGIApp] = field(default_factory=dict, init=False, repr=False)

    def add(self, name: str, factory: Factory) -> None:
        """A WSGI server; ``factory(urls)`` returns its app."""
        if self._is_new(name):
            self._members[name] = _Member(name, factory)

    def add_twisted(self, name: str, factory: Callable[[dict[str, str]], object], scheme: str) -> None:
        """A TCP server on the reactor thread; ``factory(urls)`` returns its Twisted server factory."""
        if self._is_new(name):
            self._twisted[name] = _TwistedMember(name, factory, scheme)

    def _is_new(self, name: str) -> bool:
        """Whether to keep a member being added (an external one is only named, never built)."""
        if name in self._members or name in self._twisted:
            raise FleetError(f"a fleet member is already named {name!r}")
        if self.urls:
            raise FleetError("add members before the fleet starts")
        return name not in self.external

    def start(self) -> dict[str, str]:
        """Bind every member, build it, serve it on its own thread and wait until it answers."""
        try:
            self.urls.update(self.external)
            # fixed ports first: a member bound to port 0 before them could be given one of them
            for member in sorted(self._members.values(), key=lambda m: m.name not in self.ports):
                member.server = make_server(self.host, self.ports.get(member.name, 0), _not_ready, threaded=True, request_handler=_QuietHandler,
                                            ssl_context=self.tls.server_context() if self.tls else None)
                scheme = "https" if self.tls else "http"
                self.urls[member.name] = f"{scheme}://{self.host}:{member.server.server_port}"
            for twisted_member in self._twisted.values():
                twisted_member.port = reactor.call(_listen, twisted_member.late, self.host)
                port_number = twisted_member.port.getHost().port
                self.urls[twisted_member.name] = f"{twisted_member.scheme}://{self.host}:{port_number}"
            for twisted_member in self._twisted.values():
                twisted_member.late.real = twisted_member.factory(dict(self.urls))
                self._apps[twisted_member.name] = twisted_member.late.real
            for member in self._members.values():
                member.server.app = self._apps[member.name] = member.factory(dict(self.urls))
            for member in self._members.values():
                member.thread = threading.Thread(target=member.server.serve_forever,
                                                 kwargs={"poll_interval": 0.05},
                                                 name=f"fleet-{member.name}", daemon=True)
                member.thread.start()
            for member in self._members.values():
                self._wait_until_answering(member)
            for twisted_member in self._twisted.values():
                reactor.call(twisted_member.late.real.doStart)
        except BaseException:
            self.stop()
            raise
        return dict(self.urls)

    def stop(self) -> None:
        for twisted_member in self._twisted.values():
            if twisted_member.port is not None:
                reactor.call(twisted_member.port.stopListening)
                if twisted_member.late.real is not None:
                    reactor.call(twisted_member.late.real.doStop)
            twisted_member.port = None
            twisted_member.late.real = None
        for member in self._members.values():
            if member.thread is not None:
                member.server.shutdown()
                member.thread.join(timeout=5)
            if member.server is not None:
                member.server.server_close()
            member.server = member.thread = None
        self.urls.clear()
        self._apps.clear()

    def app(self, name: str) -> WSGIApp:
        """The app a member serves, as its factory built it."""
        return self._apps[name]

    def rebuild(self, name: str) -> None:
        """Serve a fresh app from a WSGI member's factory on the same port: a restart, as far
        as anything the app kept in memory goes (what it stored elsewhere must survive it)."""
        if name not in self._members or self._members[name].server is None:
            raise FleetError(f"no running WSGI member named {name!r}")
        member = self._members[name]
        member.server.app = self._apps[name] = member.factory(dict(self.urls))

    def __enter__(self) -> "Fleet":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_until_answering(self, member: _Member) -> None:
        deadline = time.monotonic() + self.ready_timeout
        port = member.server.server_port
        while True:
            connection = (http.client.HTTPSConnection(self.host, port, timeout=1, context=self.tls.client_context())
                          if self.tls else http.client.HTTPConnection(self.host, port, timeout=1))
            try:
                # Any answer will do; in test mode the control surface answers without logging it.
                connection.request("GET", HEALTH_PATH)
                connection.getresponse().read()
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise FleetError(f"{member.name} did not answer on {self.urls[member.name]}: {exc}") from None
                time.sleep(0.01)
            finally:
                connection.close()


def _listen(factory: _LateFactory, host: str):
    from twisted.internet import reactor as twisted_reactor

    return twisted_reactor.listenTCP(0, factory, interface=host)
