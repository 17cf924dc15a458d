"""What a scenario's steps share while one matrix cell runs."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2

from plumbing.clock import SystemClock
from plumbing.masking import mask_fields

from .target import Service, Target

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


SEVERITIES = ("failure", "warning")


class StepFailed(Exception):
    """A step could not do its work, or an expectation did not hold.

    A ``warning`` is reported but does not fail the cell: a deviation a vendor should
    see, not one that breaks a client.
    """

    def __init__(self, message: str, *, cite: str | None = None, severity: str = "failure") -> None:
        super().__init__(message)
        self.cite = cite
        self.severity = severity


class StepNotApplicable(Exception):
    """What a step checks cannot be seen on this target (a vendor's server keeps no request log
    the harness may read): the step is skipped as not applicable, and the cell goes on."""


@dataclass(frozen=True)
class SentRequest:
    """What the app sent, kept so a failure can be replayed (curl) or mutated (fuzz)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    @classmethod
    def of(cls, request: httpx2.Request) -> "SentRequest":
        return cls(request.method, str(request.url), dict(request.headers), request.read())


@dataclass
class Reply:
    """An HTTP answer the app received (token endpoint, control surface)."""

    status: int
    headers: dict[str, str]
    text: str
    request: SentRequest | None = None

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def summary(self, limit: int = 300) -> str:
        """The body as a person should see it in a failure: secrets masked, cut short."""
        body = self.json
        text = json.dumps(mask_fields(body)) if body is not None else self.text
        return text if len(text) <= limit else text[:limit] + "…"

    @classmethod
    def of(cls, response: httpx2.Response) -> "Reply":
        return cls(response.status_code, dict(response.headers), response.text, SentRequest.of(response.request))


@dataclass
class Landing:
    """Where a browser flow stopped: a page, or the app's redirect URI with the MIC's answer."""

    url: str
    text: str = ""
    at_app: bool = False

    @property
    def params(self) -> dict[str, str]:
        parts = urlsplit(self.url)
        return dict(parse_qsl(parts.query, keep_blank_values=True)) | dict(
            parse_qsl(parts.fragment, keep_blank_values=True))


@dataclass
class Authenticator:
    """What a user's authenticator app knows: the TOTP secret, and the last step it gave a code for."""

    secret: str
    last_step: int = -1


@dataclass
class RunContext:
    target: Target
    service: Service
    driver: Any
    http: httpx2.Client
    vars: dict[str, Any] = field(default_factory=dict)
    reply: Reply | None = None
    landing: Landing | None = None
    #: authenticator apps enrolled during this run, by (service, username); they outlive a cell
    enrolled: dict[tuple[str, str], "Authenticator"] = field(default_factory=dict)
    #: where each control surface's request log stood when the cell began
    log_marks: dict[str, int] = field(default_factory=dict)
    #: control surfaces (URLs) on which this cell armed faults, cleared when it ends
    armed: set[str] = field(default_factory=set)
    #: which of ``reply`` and ``landing`` a step set last: what the app or user saw most recently
    latest: str | None = None
    #: by clock surface, where its time stood (and when, on this machine) before the cell first moved it
    clock_marks: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: where the clocks stood before a move that lasts only until the identity provider next issues
    rewind: dict[str, tuple[float, float]] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("reply", "landing") and value is not None:
            object.__setattr__(self, "latest", name)
        object.__setattr__(self, name, value)

    def has_surface(self, name: str) -> bool:
        resolved = self.service.upstream if name == "upstream" else name
        return resolved is not None and resolved in self.target.surfaces

    def surface(self, name: str) -> str:
        """A control surface's URL: ``upstream`` is the identity provider behind the cell's service."""
        resolved = self.service.upstream if name == "upstream" else name
        if resolved is None or resolved not in self.target.surfaces:
            raise StepFailed(f"the target has no control surface for '{name}' "
                             f"(it has: {', '.join(self.target.surfaces) or 'none'})")
        return self.target.surfaces[resolved]

    def mark_log(self, name: str) -> None:
        """Remember where a server's request log stands, so later checks see only this cell's requests."""
        if name not in self.log_marks:
            entries = self._control(name, "GET", "/_control/requests", params={"limit": 1})["requests"]
            self.log_marks[name] = entries[-1]["seq"] if entries else 0

    def requests_since_mark(self, name: str, **query: str) -> list[dict[str, Any]]:
        """What a server received since ``mark_log`` (masked, as its control surface keeps it)."""
        params = {"since": self.log_marks.get(name, 0), **query}
        return self._control(name, "GET", "/_control/requests", params=params)["requests"]

    def _control(self, name: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.surface(name) + path, **kwargs)
        if response.status_code != 200:
            raise StepFailed(f"{name}'s control surface answered {response.status_code} to {method} {path}: "
                             f"{response.text[:200]}")
        return response.json()

    def advance_clock(self, move: dict[str, Any]) -> None:
        """Move every independent clock of the target (``{"advance": s}`` or ``{"set": t}``)."""
        if not self.target.clocks:
            raise StepFailed("this target has no controllable clock")
        for name in self.target.clocks:
            if name not in self.clock_marks:
                self.clock_marks[name] = (self._clock(name), time.monotonic())
            response = self.http.post(f"{self.target.surfaces[name]}/_control/clock", json=move)
            if response.status_code != 200:
                raise StepFailed(f"{name}'s control surface refused to move the clock ({response.status_code}): "
                                 f"{response.text}")

    def rewind_before_upstream(self) -> None:
        """Remember where the clocks stand, to put them back before the identity provider next issues."""
        self.rewind = {name: (self._clock(name), time.monotonic()) for name in self.target.clocks}

    def before_upstream(self) -> None:
        """A step is about to have the identity provider issue anew: undo a move meant to end here."""
        if self.rewind is not None:
            self._set_clocks(self.rewind)
            self.rewind = None

    def keep_clocks(self) -> None:
        """The clocks' moves so far stand after the cell: something was spent at this time that
        cannot be unspent (a TOTP step, which the MIC accepts once and only after the last one)."""
        self.clock_marks = {name: (self._clock(name), time.monotonic()) for name in self.clock_marks}

    def restore_clocks(self) -> None:
        """Put every clock this cell moved back where it would be had the cell never moved it
        (its time then, plus the time the cell took): the next cell starts as this one did."""
        self._set_clocks(self.clock_marks)
        self.clock_marks.clear()
        self.rewind = None

    def _set_clocks(self, marks: dict[str, tuple[float, float]]) -> None:
        for name, (then, began) in marks.items():
            self.http.post(f"{self.target.surfaces[name]}/_control/clock",
                           json={"set": then + (time.monotonic() - began)})

    def now(self) -> float:
        """The target's time: its (virtual) clock when it has one, else this machine's."""
        if self.target.clocks:
            try:
                return self._clock(self.target.clocks[0])
            except StepFailed:
                pass
        return SystemClock().now()

    def _clock(self, name: str) -> float:
        response = self.http.get(f"{self.target.surfaces[name]}/_control/clock")
        if response.status_code != 200:
            raise StepFailed(f"{name}'s control surface would not tell its time ({response.status_code})")
        return float(response.json()["now"])

    def render(self, value: Any) -> Any:
        """``{{ name }}`` in strings replaced by values captured by earlier steps."""
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value)
            if whole:
                return self._var(whole.group(1))
            return PLACEHOLDER.sub(lambda m: str(self._var(m.group(1))), value)
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        return value

    def _var(self, name: str) -> Any:
        if name not in self.vars:
            known = ", ".join(sorted(self.vars)) or "nothing yet"
            raise StepFailed(f"no value named '{name}' was captured (captured: {known})")
        return self.vars[name]

    def credentials(self, args: dict[str, Any]) -> tuple[str, str]:
        """A test user's name and password: ``user`` names one of the target's, or give both."""
        if "user" in args:
            try:
                password = self.target.password_of(args["user"])
            except KeyError as exc:
                raise StepFailed(exc.args[0]) from None
            return args["user"], args.get("password", password)
        if "username" in args and "password" in args:
            return args["username"], args["password"]
        raise StepFailed("name a test user (user: alice) or give username and password")
