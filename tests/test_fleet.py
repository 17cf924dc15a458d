"""The fleet: members on free loopback ports, wired by each other's URLs, stopped cleanly."""
import socket

import httpx2
import pytest

from plumbing.fleet import Fleet, FleetError


def echo_urls(urls):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [repr(sorted(urls.items())).encode()]
    return app


def refuses_connections(url):
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def test_members_know_each_others_urls_and_answer():
    fleet = Fleet()
    fleet.add("a", echo_urls)
    fleet.add("b", echo_urls)
    with fleet:
        urls = dict(fleet.urls)
        assert urls["a"] != urls["b"] and all(u.startswith("http://127.0.0.1:") for u in urls.values())
        assert httpx2.get(urls["b"]).text == repr(sorted(urls.items()))
    assert fleet.urls == {}
    assert all(refuses_connections(url) for url in urls.values())


def test_a_member_that_fails_to_build_stops_the_others():
    def broken(urls):
        raise RuntimeError("bad configuration")

    fleet = Fleet()
    fleet.add("good", echo_urls)
    fleet.add("broken", broken)
    with pytest.raises(RuntimeError, match="bad configuration"):
        fleet.start()
    assert fleet.urls == {}


def test_names_are_unique():
    fleet = Fleet()
    fleet.add("a", echo_urls)
    with pytest.raises(FleetError, match="already named"):
        fleet.add("a", echo_urls)


def test_the_embedded_servers_share_one_clock(fleet):
    mic, idp = fleet.urls["mic"], fleet.urls["oauth2-idp"]
    before = httpx2.get(f"{idp}/_control/clock").json()["now"]
    httpx2.post(f"{mic}/_control/clock", json={"advance": 14 * 86400})
    assert httpx2.get(f"{idp}/_control/clock").json()["now"] - before >= 14 * 86400


def test_twisted_members_listen_on_the_one_reactor_thread_beside_wsgi_members():
    from twisted.internet import protocol

    class Greet(protocol.Protocol):
        def connectionMade(self):
            self.transport.write(self.factory.greeting.encode())
            self.transport.loseConnection()

    def greeter(urls):
        factory = protocol.ServerFactory.forProtocol(Greet)
        factory.greeting = urls["web"]
        return factory

    for _ in range(2):  # the reactor runs once per process; a second fleet reuses it
        fleet = Fleet()
        fleet.add("web", echo_urls)
        fleet.add_twisted("greeter", greeter, scheme="tcp")
        with fleet:
            url = fleet.urls["greeter"]
            assert url.startswith("tcp://127.0.0.1:")
            host, port = url.removeprefix("tcp://").split(":")
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                assert sock.makefile().read() == fleet.urls["web"]
        assert refuses_connections(url.replace("tcp://", "http://"))


def test_waiting_for_readiness_leaves_no_trace_in_the_request_logs(fleet):
    for name in ("mic", "oauth2-idp"):
        assert httpx2.get(f"{fleet.urls[name]}/_control/requests").json()["requests"] == []
