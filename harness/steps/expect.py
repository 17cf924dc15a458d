"""``expect``: what the app must have received, checked against the last answer or landing.

Each expectation may ``cite`` the spec clause it enforces; a failure quotes it.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus, urlsplit

from plumbing.masking import is_secret_name, mask

from ..context import SEVERITIES, RunContext, StepFailed, StepNotApplicable
from . import Step

_MISSING = object()
_PATHS = {"type": "array", "items": {"type": "string"}}


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path (``a.b.0``) in JSON data, or ``_MISSING``."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _statuses(wanted: int | list[int]) -> list[int]:
    return wanted if isinstance(wanted, list) else [wanted]


def _shown(path: str, value: Any) -> Any:
    """A value fit for a failure message: masked when its name says it is a secret."""
    return mask(value) if is_secret_name(path.rsplit(".", 1)[-1]) else value


class Expect(Step):
    SCHEMA = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "status": {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": 2}],
                       "description": "HTTP status of the last answer, or the statuses of which it must be one"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "json": {"type": "object", "description": "dotted path -> expected value in the answer's JSON"},
            "present": {**_PATHS, "description": "dotted paths that must be in the answer's JSON"},
            "absent": {**_PATHS, "description": "dotted paths that must not be in the answer's JSON"},
            "redirect": {
                "type": "object", "additionalProperties": False,
                "description": "the MIC's redirect to the app",
                "properties": {"params": {"type": "object", "additionalProperties": {"type": "string"}},
                               "present": _PATHS, "absent": _PATHS},
            },
            "page_contains": {"type": "string", "description": "text on the page the flow stopped at"},
            "mentions": {**_PATHS, "description": "words (any case) the last answer, or page and its URL, "
                                                  "must say"},
            "lacks": {**_PATHS, "description": "text the last answer, or page and its URL, may not show, "
                                               "e.g. a directory's internals"},
            "requests": {
                "type": "object", "additionalProperties": False, "required": ["server", "path"],
                "description": "what a server received during this cell, from its control request log",
                "properties": {
                    "server": {"type": "string", "description": "a control surface, or 'upstream'"},
                    "path": {"type": "string", "pattern": "^/", "description": "request path or glob"},
                    "method": {"type": "string"},
                    "form": {"type": "object", "additionalProperties": {"type": "string"},
                             "description": "body fields the requests must carry (secrets are masked in logs)"},
                    "status": {"type": "integer", "description": "what the server answered"},
                    "count": {"type": "integer", "minimum": 0, "description": "exactly this many"},
                    "at_least": {"type": "integer", "minimum": 0, "description": "default: 1"},
                },
            },
            "landed": {"enum": ["app", "page", "mic"],
                       "description": "whether the flow reached the app's redirect URI or stopped on a page; "
                                      "mic: on a page of the MIC's own (its refusal), not an IdP's"},
            "save": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^(json|redirect)\\."},
                     "description": "name -> json.<path> or redirect.<param>, usable later as {{ name }}"},
            "cite": {"type": "string", "description": "the spec clause this enforces, e.g. RFC6749-4.1.2"},
            "severity": {"enum": list(SEVERITIES),
                         "description": "failure (default) fails the cell; warning is reported and the run goes on"},
        },
    }

    def run(self, ctx: RunContext) -> None:
        args = ctx.render({k: v for k, v in self.args.items() if k != "save"})
        unseen = "requests" in args and self._unseen(ctx, args["requests"]["server"])
        if unseen:
            args = {k: v for k, v in args.items() if k != "requests"}
        problems = (self._check_reply(ctx, args) + self._check_landing(ctx, args) + self._check_requests(ctx, args)
                    + self._check_text(ctx, args))
        failed = StepFailed("; ".join(problems), cite=args.get("cite"), severity=args.get("severity", "failure"))
        if problems and failed.severity == "failure":
            raise failed
        for name, source in self.args.get("save", {}).items():
            ctx.vars[name] = self._source(ctx, source)
        if problems:
            raise failed
        if unseen:
            raise StepNotApplicable(f"the request log of {self.args['requests']['server']} cannot be read on this "
                                    "target (the other checks of this step held)")

    @classmethod
    def surfaces(cls, args: dict[str, Any]) -> set[str]:
        return {args["requests"]["server"]} if "requests" in args else set()

    @classmethod
    def observes(cls, args: dict[str, Any]) -> bool:
        return True  # it only reads a request log: where none can be read, that check alone is skipped

    def prepare(self, ctx: RunContext) -> None:
        if "requests" in self.args and not self._unseen(ctx, self.args["requests"]["server"]):
            ctx.mark_log(self.args["requests"]["server"])

    @staticmethod
    def _unseen(ctx: RunContext, server: str) -> bool:
        """Whether ``server`` is the cell's identity provider and its log cannot be read here (a
        vendor's server); any other server the target lacks is a mistake, reported as such."""
        return server in ("upstream", ctx.service.upstream) and not ctx.has_surface(server)

    @staticmethod
    def _check_requests(ctx: RunContext, args: dict[str, Any]) -> list[str]:
        wanted = args.get("requests")
        if wanted is None:
            return []
        query = {k: wanted[k] for k in ("path", "method") if k in wanted}
        entries = [e for e in ctx.requests_since_mark(wanted["server"], **query)
                   if ("status" not in wanted or e["status"] == wanted["status"])
                   and all(isinstance(e["body"], dict) and str(e["body"].get(k)) == v
                           for k, v in wanted.get("form", {}).items())]
        described = f"{wanted.get('method', 'any')} {wanted['path']} at {wanted['server']}" + (
            f" with {wanted['form']}" if "form" in wanted else "") + (
            f" answered {wanted['status']}" if "status" in wanted else "")
        if "count" in wanted and len(entries) != wanted["count"]:
            return [f"requests: expected {wanted['count']} × {described}, the log shows {len(entries)}"]
        if "count" not in wanted and len(entries) < wanted.get("at_least", 1):
            return [f"requests: expected at least {wanted.get('at_least', 1)} × {described}, "
                    f"the log shows {len(entries)}"]
        return []

    @staticmethod
    def _check_text(ctx: RunContext, args: dict[str, Any]) -> list[str]:
        if "mentions" not in args and "lacks" not in args:
            return []
        if ctx.latest is None:
            return ["expected an answer or a page to read, but there is none"]
        # what the app or user saw last: an answer's body, or where a flow landed (its URL and page)
        seen = ctx.reply.text if ctx.latest == "reply" else f"{ctx.landing.url}\n{ctx.landing.text}"
        problems = [f"text: expected {word!r} to be mentioned" for word in args.get("mentions", [])
                    if word.lower() not in seen.lower()]
        return problems + [f"text: {leak!r} should not be shown, but is" for leak in args.get("lacks", [])
                           if leak in seen or leak in unquote_plus(seen)]

    @staticmethod
    def _check_reply(ctx: RunContext, args: dict[str, Any]) -> list[str]:
        wanted = [k for k in ("status", "headers", "json", "present", "absent") if k in args]
        if not wanted:
            return []
        reply = ctx.reply
        if reply is None:
            return [f"expected an answer to check {', '.join(wanted)}, but no request was made"]
        problems = []
        if "status" in args and reply.status not in _statuses(args["status"]):
            problems.append(f"status: expected {args['status']}, got {reply.status} ({reply.summary()})")
        headers = {k.lower(): v for k, v in reply.headers.items()}
        for name, value in args.get("headers", {}).items():
            if headers.get(name.lower()) != value:
                problems.append(f"header {name}: expected {value!r}, got {headers.get(name.lower())!r}")
        body = reply.json
        for path, value in args.get("json", {}).items():
            actual = lookup(body, path)
            if actual is _MISSING:
                problems.append(f"json {path}: expected {value!r}, but it is missing")
            elif actual != value:
                problems.append(f"json {path}: expected {value!r}, got {_shown(path, actual)!r}")
        problems += [f"json {p}: expected it to be present" for p in args.get("present", [])
                     if lookup(body, p) is _MISSING]
        problems += [f"json {p}: expected it to be absent, got {_shown(p, lookup(body, p))!r}"
                     for p in args.get("absent", [])
                     if lookup(body, p) is not _MISSING]
        return problems

    @staticmethod
    def _check_landing(ctx: RunContext, args: dict[str, Any]) -> list[str]:
        if not {"redirect", "page_contains", "landed"} & set(args):
            return []
        landing = ctx.landing
        if landing is None:
            return ["expected a browser flow to check, but none ran"]
        problems = []
        if args.get("landed") == "mic" and (landing.at_app or urlsplit(landing.url).netloc
                                            != urlsplit(ctx.target.mic).netloc):
            problems.append(f"expected the MIC itself to stop the flow on a page of its own, but it went on to "
                            f"{landing.url}")
        if args.get("landed") == "page" and landing.at_app:
            problems.append(f"expected the flow to stop on a page, but it reached the app: {landing.url}")
        if args.get("landed") == "app" and not landing.at_app:
            problems.append(f"expected the flow to reach the app, but it stopped at {landing.url}")
        if "redirect" in args:
            if not landing.at_app:
                return [f"expected a redirect to the app, but the flow stopped at {landing.url}"
                        f" ({landing.text[:200].strip()!r})"]
            params = landing.params
            for name, value in args["redirect"].get("params", {}).items():
                if params.get(name) != value:
                    problems.append(f"redirect parameter {name}: expected {value!r}, "
                                f"got {_shown(name, params.get(name))!r}")
            problems += [f"redirect parameter {p}: expected it to be present"
                         for p in args["redirect"].get("present", []) if p not in params]
            problems += [f"redirect parameter {p}: expected it to be absent, got {_shown(p, params[p])!r}"
                         for p in args["redirect"].get("absent", []) if p in params]
        if "page_contains" in args and args["page_contains"] not in landing.text:
            problems.append(f"page text: expected {args['page_contains']!r} on {landing.url}")
        return problems

    @staticmethod
    def _source(ctx: RunContext, source: str) -> Any:
        kind, _, path = source.partition(".")
        if kind == "json":
            value = lookup(ctx.reply.json if ctx.reply else None, path)
        else:
            value = ctx.landing.params.get(path, _MISSING) if ctx.landing else _MISSING
        if value is _MISSING:
            raise StepFailed(f"save: nothing at {source}")
        return value
