"""A browser stand-in made of HTTP requests: follows redirects, keeps cookies, posts forms,
and passes the pages that post themselves onward (``pages``: which form, and what triggers it)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable
from urllib.parse import urljoin

import httpx2

from ..context import Landing, StepFailed
from ..recording import USER_AGENT
from .pages import Form, Page

MAX_REDIRECTS = 20


class HttpDriver:
    name = "http"

    def __init__(self, redirect_uri: str, transport: httpx2.BaseTransport, timeout: float = 10.0,
                 hooks: dict[str, list[Callable]] | None = None) -> None:
        self.redirect_uri = redirect_uri
        # Cookies are this driver's own; the connection pool (and its costly TLS context) is shared.
        self.client = httpx2.Client(transport=transport, follow_redirects=False, timeout=timeout,
                                    headers={"User-Agent": USER_AGENT}, event_hooks=hooks)
        self._page: tuple[str, int, str] | None = None  # (url, status, html) of the page the flow stopped at

    def open(self, url: str) -> Landing:
        return self._follow(self._send("GET", url))

    def submit_form(self, fields: dict[str, str], submit: str, untick: tuple[str, ...] = (),
                    form: str | None = None) -> Landing:
        """Fill the form the recipe means (its ``form`` selector's, else the one holding ``fields``),
        its hidden inputs kept, untick the checkboxes named in ``untick``, and send it as the
        ``submit`` control would (with its name and value, when it has a name)."""
        url, status, page = self._current()
        chosen = page.form_for(fields, submit, form, url, status)
        missing = [name for name in fields if name not in chosen.names]
        if missing:
            raise StepFailed(f"cannot get past the page at {url} (status {status}): the form "
                             f"{chosen.describe()} has no field {', '.join(missing)}")
        button = page.button(chosen, submit)
        if button is None:
            raise StepFailed(f"cannot get past the page at {url} (status {status}): the form {chosen.describe()} "
                             f"has no submit control {submit!r}")
        pressed = {button.attrs["name"]: button.attrs.get("value", "")} if button.attrs.get("name") else {}
        data = {k: v for k, v in chosen.fields.items() if k not in untick} | fields | pressed
        return self._send_form(url, chosen, data)

    def has_field(self, name: str) -> bool:
        return self._page is not None and any(name in f.names for f in self._current()[2].forms)

    def text_by_id(self, element_id: str) -> str | None:
        if self._page is None:
            return None
        parts = self._current()[2].by_id.get(element_id)
        return None if parts is None else "".join(parts).strip()

    def _current(self) -> tuple[str, int, Page]:
        if self._page is None:
            raise StepFailed("the flow is not on a page")
        url, status, html = self._page
        return url, status, Page(html)

    def _send_form(self, url: str, form: Form, data: dict[str, str], posted: int = 0) -> Landing:
        target = urljoin(url, form.action) if form.action else url
        if form.method == "post":
            return self._follow(self._send("POST", target, data=data), posted)
        return self._follow(self._send("GET", target, params=data), posted)

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
        page = Page(response.text)
        onward = page.autopost()
        if onward is not None:
            if posted >= MAX_REDIRECTS:
                raise StepFailed(f"more than {MAX_REDIRECTS} pages posted themselves onward, last at {response.url}")
            # what a browser's script (or a person pressing the noscript button) does
            return self._send_form(str(response.url), onward, onward.fields, posted + 1)
        self._page = (str(response.url), response.status_code, response.text)
        return Landing(url=str(response.url), text=" ".join(" ".join(page.text).split()))
