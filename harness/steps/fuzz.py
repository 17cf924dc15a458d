"""``fuzz``: malformed variants of a request the app sent, and what an endpoint owes each.

The request is the last one the app sent, or the authorization request the
``authorize`` step would send. Hypothesis generates the variants (see
``harness.mutations``), and a variant that breaks an invariant is shrunk to its
simplest form and reported as a curl command. Whatever the variant, the answer is
never a 5xx; one the endpoint must refuse gets a 4xx with an RFC 6749 error (or a
redirect to the app carrying ``error``), and never a token or a code.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx2
from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings

from ..context import Landing, Reply, RunContext, SentRequest, StepFailed
from ..curl import as_curl
from ..mutations import Recorded, Variant, variants
from . import Step
from .authorize import Authorize

TOKEN_ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                          "unsupported_grant_type", "invalid_scope"})
AUTHORIZATION_ERRORS = TOKEN_ERRORS | {"access_denied", "unsupported_response_type", "server_error",
                                       "temporarily_unavailable"}
#: what a refused request must never carry away
ISSUED = ("access_token", "refresh_token", "id_token", "code")
#: the HTTP layer may refuse a request's size before OAuth reads it (RFC 9110 15.5.14, 15.5.15; RFC 6585 5)
SIZE_REFUSALS = frozenset({413, 414, 431})
#: the connection's own headers, set anew for each variant
_UNSENT = frozenset({"host", "content-length", "transfer-encoding"})


class _Broken(Exception):
    """An invariant did not hold: hypothesis shrinks the variant while it keeps failing."""

    def __init__(self, variant: Variant, problem: str, sent: SentRequest) -> None:
        super().__init__(problem)
        self.variant, self.problem, self.sent = variant, problem, sent


class _Recorder:
    """Stands in for the browser so that the authorize step builds its request but sends nothing."""

    url = ""

    def open(self, url: str) -> Landing:
        self.url = url
        return Landing(url)


class Fuzz(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "examples": {"type": "integer", "minimum": 1, "maximum": 1000,
                         "description": "how many variants to try (default 50), besides the plain replay"},
            "authorize": {**Authorize.SCHEMA, "description": "fuzz the authorization request the authorize step "
                                                             "would send with these arguments, not the last request"},
            "required": {"type": "array", "items": {"type": "string"},
                         "description": "parameters (or the Authorization header) whose absence or breakage must be "
                                        "refused; default: what RFC 6749 makes the request carry"},
            "spent": {"type": "boolean",
                      "description": "the request used up what it carried (a code, a rotated refresh token, a login "
                                     "reference), so sent again, changed or not, it must be refused; default: for a "
                                     "code redemption"},
            "cite": {"type": "string", "description": "default: RFC6749-5.2 (token) or RFC6749-4.1.2.1"},
        },
    }

    def run(self, ctx: RunContext) -> None:
        args = ctx.render(self.args)
        recorded = Recorded.of(self._source(ctx, args))
        required = set(args["required"]) if "required" in args else recorded.required()
        token_endpoint = recorded.value("grant_type") is not None
        spent = args.get("spent", recorded.value("grant_type") == "authorization_code")
        strategy = variants(recorded, required)
        if spent:  # whatever else a variant changes, it still carries what was used up
            strategy = strategy.map(lambda variant: replace(variant, bad=True))
        redirect_uri = recorded.value("redirect_uri")
        errors = TOKEN_ERRORS if token_endpoint else AUTHORIZATION_ERRORS

        def check(variant: Variant) -> None:
            try:
                response = _send(ctx.http, variant.request)
            except httpx2.HTTPError as exc:
                raise _Broken(variant, f"no answer ({type(exc).__name__}: {exc})", variant.request) from None
            problem = _problem(response, variant.bad, errors, redirect_uri if not token_endpoint else None)
            if problem:
                raise _Broken(variant, problem, SentRequest.of(response.request))

        cookies = httpx2.Cookies(ctx.http.cookies)
        try:
            broken = _falsify(check, strategy, Variant("nothing changed", spent, recorded.request),
                              args.get("examples", 50))
        finally:
            ctx.http.cookies = cookies  # the variants' cookies stay out of the next steps
        if broken is not None:
            raise StepFailed(f"fuzz: {broken.problem}, for the recorded request{' (used once already)' if spent else ''}"
                             f" with {broken.variant.change}:\n"
                             f"{as_curl(broken.sent)}",
                             cite=args.get("cite", "RFC6749-5.2" if token_endpoint else "RFC6749-4.1.2.1"))

    @staticmethod
    def _source(ctx: RunContext, args: dict[str, Any]) -> SentRequest:
        if "authorize" in args:
            recorder = _Recorder()
            Authorize(args["authorize"]).run(replace(ctx, driver=recorder))
            return SentRequest("GET", recorder.url, {})
        if ctx.reply is None or ctx.reply.request is None:
            raise StepFailed("fuzz: no request to start from (run a step that calls an endpoint first)")
        return ctx.reply.request


def _falsify(check, strategy, first: Variant, examples: int) -> _Broken | None:
    """The simplest variant that breaks an invariant, after trying ``first`` and ``examples`` others."""

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True, verbosity=Verbosity.quiet,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              # each example is an HTTP round trip: slow by hypothesis' measure, and meant to be
              suppress_health_check=list(HealthCheck))
    @example(first)
    @given(strategy)
    def probe(variant: Variant) -> None:
        check(variant)

    broken = None
    try:
        probe()
    except* _Broken as group:  # alone, or in a FlakyFailure when the target answered differently on a retry
        broken = group
    while isinstance(broken, BaseExceptionGroup):
        broken = broken.exceptions[0]
    return broken


def _send(http: httpx2.Client, sent: SentRequest) -> httpx2.Response:
    headers = {k: v for k, v in sent.headers.items() if k.lower() not in _UNSENT}
    return http.send(httpx2.Request(sent.method, sent.url, headers=headers, content=sent.body), follow_redirects=False)


def _problem(response: httpx2.Response, bad: bool, errors: frozenset[str], redirect_uri: str | None) -> str | None:
    """What the answer owes and lacks: never a 5xx, and for a bad request a refusal without tokens."""
    reply = Reply.of(response)
    if response.status_code >= 500:
        return f"answered {response.status_code} ({reply.summary()})"
    if not bad:
        return None
    location = urljoin(str(response.url), response.headers["location"]) if response.has_redirect_location else ""
    params = dict(parse_qsl(urlsplit(location).query) + parse_qsl(urlsplit(location).fragment))
    body = reply.json if isinstance(reply.json, dict) else {}
    issued = [name for name in ISSUED if name in body or name in params]
    if issued:
        return f"issued {', '.join(issued)} ({response.status_code}) to a request it must refuse"
    if response.has_redirect_location:
        if redirect_uri is None or not location.startswith(redirect_uri):
            return f"redirected to {location[:200]} instead of refusing"
        if params.get("error") not in errors:
            return f"redirected to the app without an RFC 6749 error ({location[:200]})"
        return None
    if response.status_code < 400:
        return f"answered {response.status_code} to a request it must refuse ({reply.summary()})"
    if response.status_code in SIZE_REFUSALS or body.get("error") in errors:
        return None
    return f"refused with {response.status_code} but no RFC 6749 error body ({reply.summary()})"
