"""A browser stand-in made of HTTP requests: follows redirects, keeps cookies, posts forms."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx2

from ..context import Landing, StepFailed
from ..target import LoginRecipe

MAX_REDIRECTS = 20


class _Form(HTMLParser):
    """The first form of a page: its action, method and the inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False
        self.done = False
        self.action = ""
        self.method = "get"
        self.fields: dict[str, str] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.found:
            self.found = True
            self.action = attributes.get("action", "")
            self.method = attributes.get("method", "get").lower()
        elif tag == "input" and self.found and not self.done and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.done = True

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class HttpDriver:
    name = "http"

    def __init__(self, redirect_uri: str, transport: httpx2.BaseTransport, timeout: float = 10.0) -> None:
        self.redirect_uri = redirect_uri
        # Cookies are this driver's own; the connection pool (and its costly TLS context) is shared.
        self.client = httpx2.Client(transport=transport, follow_redirects=False, timeout=timeout)
        self._page: tuple[str, str] | None = None  # (url, html) of the page the flow stopped at

    def open(self, url: str) -> Landing:
        return self._follow(self._send("GET", url))

    def submit_login(self, recipe: LoginRecipe, username: str, password: str) -> Landing:
        if self._page is None:
            raise StepFailed("login: the flow is not on a page")
        url, html = self._page
        form = _Form()
        form.feed(html)
        if not form.found:
            raise StepFailed(f"login: no form on {url}")
        data = dict(form.fields) | {recipe.username: username, recipe.password: password}
        target = urljoin(url, form.action) if form.action else url
        if form.method == "post":
            return self._follow(self._send("POST", target, data=data))
        return self._follow(self._send("GET", target, params=data))

    def close(self) -> None:
        self.client.cookies.clear()  # the shared transport stays open for the next cell

    def _send(self, method: str, url: str, **kwargs) -> httpx2.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx2.HTTPError as exc:
            raise StepFailed(f"{method} {url}: {type(exc).__name__}: {exc}") from None

    def _follow(self, response: httpx2.Response) -> Landing:
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
        self._page = (str(response.url), response.text)
        page = _Form()
        page.feed(response.text)
        return Landing(url=str(response.url), text=" ".join(" ".join(page.text).split()))
