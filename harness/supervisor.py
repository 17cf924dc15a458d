"""The embedded fleet's supervisor: restarts a server on request, so scenarios can prove
that the MIC keeps what it issued across a restart.

``POST /_control/restart/<server>`` serves a fresh app from the server's factory on the
same port; whatever the old one kept only in memory is gone. A MIC elsewhere can offer
the same endpoint from its own process manager (the target names it ``supervisor``).
"""
from __future__ import annotations

import json
from typing import Callable, Iterable

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from plumbing.fleet import Fleet, FleetError

_ROUTES = Map([Rule("/_control/restart/<server>", endpoint="restart", methods=["POST"]),
               Rule("/_control/health", endpoint="health", methods=["GET"])])


def create_app(fleet: Fleet, restartable: frozenset[str]) -> Callable[[dict, Callable], Iterable[bytes]]:
    def answer(status: int, body: dict) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    @Request.application
    def app(request: Request) -> Response:
        try:
            endpoint, args = _ROUTES.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return answer(exc.code or 400, {"error": exc.description})
        if endpoint == "health":
            return answer(200, {"status": "ok"})
        server = args["server"]
        if server not in restartable:
            return answer(404, {"error": f"'{server}' cannot be restarted here "
                                         f"(restartable: {', '.join(sorted(restartable))})"})
        try:
            fleet.rebuild(server)
        except FleetError as exc:
            return answer(409, {"error": str(exc)})
        return answer(200, {"restarted": server})
    return app
