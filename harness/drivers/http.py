"""A browser stand-in made of HTTP requests: follows redirects, keeps cookies, posts forms."""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin

import httpx2

from ..context import Landing, StepFailed
from ..recording import USER_AGENT

MAX_REDIRECTS = 20


class _Page(HTMLParser):
    """What the driver needs of a page: its first form (action, method, the inputs a browser
    would send: a checkbox only when ticked; its named buttons by id), its text, the text of
    elements by id, and whether the page posts its form itself (``<body onload="…submit()">``,
    as SAML's HTTP-POST binding does)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found = False
        self.done = False
        self.autosubmit = False
        self.action = ""
        self.method = "get"
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}  # id -> (name, value) of the form's named buttons
        self.text: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self._open_ids: list[str | None] = []
        self._unread = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self._unread += tag in ("style", "script")
        if tag == "body" and "submit()" in attributes.get("onload", ""):
            self.autosubmit = True
        if tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._open_ids.append(attributes.get("id"))
            if attributes.get("id"):
                self.by_id.setdefault(attributes["id"], [])
        if tag == "form" and not self.found:
            self.found = True
            self.action = attributes.get("action", "")
            self.method = attributes.get("method", "get").lower()
        elif tag == "input" and self.found and not self.done and attributes.get("name"):
            box = attributes.get("type") in ("checkbox", "radio")
            if not box or "checked" in attributes:
                self.fields[attributes["name"]] = attributes.get("value", "on" if box else "")
        elif tag == "button" and self.found and not self.done and attributes.get("name") and attributes.get("id"):
            self.buttons[attributes["id"]] = (attributes["name"], attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        self._unread -= tag in ("style", "script") and self._unread > 0
        if tag == "form":
            self.done = True
        if self._open_ids and tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._open_ids.pop()

    def handle_data(self, data: str) -> None:
        if self._unread:
            return  # inside <style> or <script>: not text a person reads
        self.text.append(data)
        for element_id in filter(None, self._open_ids):
            self.by_id[element_id].append(data)


class HttpDriver:
    name = "http"

    def __init__(self, redirect_uri: str, transport: httpx2.BaseTransport, timeout: float = 10.0,
                 hooks: dict[str, list[Callable]] | None = None) -> None:
        self.redirect_uri = redirect_uri
        # Cookies are this driver's own; the connection pool (and its costly TLS context) is shared.
        self.client = httpx2.Client(transport=transport, follow_redirects=False, timeout=timeout,
                                    headers={"User-Agent": USER_AGENT}, event_hooks=hooks)
        self._page: tuple[str, str] | None = None  # (url, html) of the page the flow stopped at

    def open(self, url: str) -> Landing:
        return self._follow(self._send("GET", url))

    def submit_form(self, fields: dict[str, str], submit: str, untick: tuple[str, ...] = ()) -> Landing:
        """Fill the page's form (its hidden inputs kept), untick the checkboxes named in ``untick``,
        and send it as the ``submit`` button would (with its name and value, when it is
        ``#id`` of a named button)."""
        url, page = self._current()
        if not page.found:
            raise StepFailed(f"no form on {url}")
        button = page.buttons.get(submit[1:]) if submit.startswith("#") else None
        data = {k: v for k, v in page.fields.items() if k not in untick} | fields | dict([button] if button else [])
        target = urljoin(url, page.action) if page.action else url
        if page.method == "post":
            return self._follow(self._send("POST", target, data=data))
        return self._follow(self._send("GET", target, params=data))

    def has_field(self, name: str) -> bool:
        return self._page is not None and name in self._current()[1].fields

    def text_by_id(self, element_id: str) -> str | None:
        if self._page is None:
            return None
        parts = self._current()[1].by_id.get(element_id)
        return None if parts is None else "".join(parts).strip()

    def _current(self) -> tuple[str, _Page]:
        if self._page is None:
            raise StepFailed("the flow is not on a page")
        url, html = self._page
        return url, _Page(html)

    def evidence(self, directory: Path) -> dict[str, Path]:
        """Nothing beyond the recorded exchanges: an HTTP flow has no screen to keep."""
        return {}

    def close(self) -> None:
        self.client.cookies.clear()  # the shared transport stays open for the next cell

    def _send(self, method: str, url: str, **kwargs) -> httpx2.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx2.HTTPError as exc:
            raise StepFailed(f"{method} {url}: {type(exc).__name__}: {exc}") from None

    def _follow(self, response: httpx2.Response, posted: int = 0) -> Landing:
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("location")
            if not response.is_redirect or location is None:
                break
            location = urljoin(str(response.url), location)
            if location.startswith(self.redirect_uri):
                self._page = None
                return Landing(url=location, at_app=True)
            response = self._send("GET", location)
        else:
            raise StepFailed(f"more than {MAX_REDIRECTS} redirects, last at {response.url}")
        page = _Page(response.text)
        if page.autosubmit and page.found and posted < MAX_REDIRECTS:
            # what a browser's script does: post the form's (hidden) fields where the form says
            target = urljoin(str(response.url), page.action) if page.action else str(response.url)
            if page.method == "post":
                return self._follow(self._send("POST", target, data=page.fields), posted + 1)
            return self._follow(self._send("GET", target, params=page.fields), posted + 1)
        self._page = (str(response.url), response.text)
        return Landing(url=str(response.url), text=" ".join(" ".join(page.text).split()))
