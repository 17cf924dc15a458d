"""A real browser: Playwright driving the system Chromium, one browser per session.

Playwright cannot download its browsers here, so it launches the executable named by
``MIC_HARNESS_CHROMIUM`` (default ``/usr/bin/chromium``). Each matrix cell gets a
fresh browser context: no cookie leaks from one scenario into the next. A context may
report its traffic to a Recorder and keep a Playwright trace, saved only when its cell
fails (a trace holds the traffic unmasked: it is for debugging against test users).
"""
from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Error as PlaywrightError, Playwright, sync_playwright

from ..context import Landing, StepFailed
from ..recording import Recorder

DEFAULT_CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 10_000
#: a page that posts a form by itself (SAML's HTTP-POST binding) is a hop, not a landing: its body's
#: onload submits, or it holds a form of hidden fields only (nothing a person fills) and a script or
#: a noscript button to post it (``pages`` in the HTTP driver says the same for its own reading)
_AUTOPOSTS = """() => {
  if (!document.body) return false;
  if (/submit\\(\\)/.test(document.body.getAttribute('onload') || '')) return true;
  if (!document.querySelector('script, noscript')) return false;
  return [...document.forms].some(form => {
    const controls = [...form.elements].filter(e => ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(e.tagName));
    return controls.length > 0 && controls.every(e => e.tagName === 'INPUT' && e.type === 'hidden');
  });
}"""
#: the page's forms, for a message that says why it could not be got past
_FORMS = """() => [...document.forms].map((form, i) => `#${i + 1} <form${form.id ? ' id=' + form.id : ''}` +
  `${form.getAttribute('name') ? ' name=' + form.getAttribute('name') : ''} action=${form.getAttribute('action') || '(this page)'}` +
  ` method=${(form.getAttribute('method') || 'get').toLowerCase()}> fields: ` +
  ([...form.elements].map(e => e.name).filter(Boolean).join(', ') || 'none')).join('; ') || 'no form'"""
MAX_AUTOPOSTS = 5


class BrowserSession:
    """The one browser of a test session, launched on first use."""

    def __init__(self, executable: str | None = None, trusted_spki: str | None = None) -> None:
        self.executable = executable or os.environ.get("MIC_HARNESS_CHROMIUM", DEFAULT_CHROMIUM)
        #: the one server key Chromium should accept beyond its trust store (a local CA's certificate)
        self.trusted_spki = trusted_spki
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def driver(self, redirect_uri: str, recorder: Recorder | None = None, trace: bool = False) -> "BrowserDriver":
        if self._browser is None:
            if not os.path.exists(self.executable):
                raise StepFailed(f"no Chromium at {self.executable}: install Debian's chromium "
                                 "or set MIC_HARNESS_CHROMIUM")
            self._playwright = sync_playwright().start()
            args = [f"--ignore-certificate-errors-spki-list={self.trusted_spki}"] if self.trusted_spki else []
            self._browser = self._playwright.chromium.launch(executable_path=self.executable, args=args)
        return BrowserDriver(self._browser, redirect_uri, recorder, trace)

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()
        self._browser = self._playwright = None


class BrowserDriver:
    name = "browser"

    def __init__(self, browser: Browser, redirect_uri: str, recorder: Recorder | None = None,
                 trace: bool = False) -> None:
        self.redirect_uri = redirect_uri
        self.context = browser.new_context()
        self.context.set_default_timeout(TIMEOUT_MS)
        if recorder is not None:
            self.context.on("response", recorder.browsed)
            self.context.on("requestfailed", recorder.browsed)
        self._tracing = trace
        if trace:
            # DOM snapshots cost ~35 ms a cell; a screencast would add ~80 ms more, and the
            # failure's own screenshot shows the page that matters
            self.context.tracing.start(snapshots=True)
        self.page = self.context.new_page()

    def open(self, url: str) -> Landing:
        try:
            self.page.goto(url)
        except PlaywrightError as exc:
            raise StepFailed(f"browser could not open {url}: {exc.message.splitlines()[0]}") from None
        return self._landing()

    def submit_form(self, fields: dict[str, str], submit: str, untick: tuple[str, ...] = (),
                    form: str | None = None) -> Landing:
        """Fill the form the recipe means (its ``form`` selector's, else the one holding ``fields``)
        and press its ``submit`` control."""
        try:
            scope = self._form(fields, submit, form)
            for name, value in fields.items():
                scope.locator(f"[name='{name}']").first.fill(value)
            for name in untick:
                scope.locator(f"[name='{name}']").first.uncheck()
            button = scope.locator(submit)
            if not button.count():
                raise StepFailed(f"cannot get past the page at {self.page.url}: the form has no submit control "
                                 f"{submit!r}; forms seen: {self._forms_seen()}")
            with self.page.expect_navigation():
                button.first.click()
        except PlaywrightError as exc:
            raise StepFailed(f"on {self.page.url}: {exc.message.splitlines()[0]}") from None
        return self._landing()

    def _form(self, fields: dict[str, str], submit: str, selector: str | None):
        """The locator the recipe's fields and button are looked for in."""
        if selector:
            scope, why = self.page.locator(selector), f"no form matches the recipe's form selector {selector!r}"
        elif fields:
            scope = self.page.locator("form" + "".join(f":has([name='{name}'])" for name in fields))
            why = f"no form has the fields {', '.join(fields)}"
        else:
            return self.page
        if not scope.count():
            raise StepFailed(f"cannot get past the page at {self.page.url}: {why}; forms seen: "
                             f"{self.page.evaluate(_FORMS)}")
        return scope.first

    def has_field(self, name: str) -> bool:
        return self.page.locator(f"[name='{name}']").count() > 0

    def text_by_id(self, element_id: str) -> str | None:
        element = self.page.locator(f"#{element_id}")
        return element.inner_text().strip() if element.count() else None

    def evidence(self, directory: Path) -> dict[str, Path]:
        """For a failed cell: a screenshot of the page it stopped on, and its trace."""
        directory.mkdir(parents=True, exist_ok=True)
        kept = {}
        try:
            self.page.screenshot(path=directory / "screenshot.png", full_page=True)
            kept["screenshot"] = directory / "screenshot.png"
        except PlaywrightError:
            pass  # a page that cannot be drawn still leaves its trace
        if self._tracing:
            self.context.tracing.stop(path=directory / "trace.zip")
            self._tracing = False
            kept["trace"] = directory / "trace.zip"
        return kept

    def close(self) -> None:
        if self._tracing:
            self.context.tracing.stop()  # a passing cell's trace is not kept
        self.context.close()

    def _past_autoposts(self) -> None:
        """Wait while the browser is on pages that post themselves onward."""
        for _ in range(MAX_AUTOPOSTS):
            url = self.page.url
            try:
                self.page.wait_for_load_state()
                url = self.page.url
                if not self.page.evaluate(_AUTOPOSTS):
                    return
            except PlaywrightError as exc:
                if "navigat" not in exc.message:  # else the page moved on while being read
                    raise StepFailed(f"on {self.page.url}: {exc.message.splitlines()[0]}") from None
            try:  # however slow the next hop (a loaded machine), wait for it rather than look again at once
                self.page.wait_for_url(lambda now: now != url)
            except PlaywrightError as exc:
                forms = self._forms_seen()
                raise StepFailed(f"the page at {url} looked as if it posts itself onward but stayed "
                                 f"({exc.message.splitlines()[0]}); forms seen: {forms}") from None

    def _forms_seen(self) -> str:
        try:
            return self.page.evaluate(_FORMS)
        except PlaywrightError:
            return "(the page could not be read)"

    def _landing(self) -> Landing:
        self._past_autoposts()
        url = self.page.url
        return Landing(url=url, text=self.page.inner_text("body"), at_app=url.startswith(self.redirect_uri))
