"""The report of a real run, read back: results.json, report.html (parsed, and drawn by
Chromium), junit.xml, a failed cell's curl, screenshot and trace; and no secret anywhere."""
import base64
import json
import os
import shlex
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

import pytest

from harness import report, scenario as scenarios
from harness.runner import Runner
from plumbing.masking import is_secret_name

MIC_HARNESS = str(Path(sys.executable).with_name("mic-harness"))
CHROMIUM = os.environ.get("MIC_HARNESS_CHROMIUM", "/usr/bin/chromium")
SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"

PASSES = """\
scenario: Password grant works
needs: [password-grant]
steps:
  - token: {grant: password, user: alice}
  - expect: {status: 200, cite: RFC6749-5.1}
"""
TEAPOT = PASSES.replace("works", "answers as a teapot").replace("status: 200, cite: RFC6749-5.1",
                                                               "status: 418, cite: RFC2324-2.3.2")
KNOWN = TEAPOT.replace("answers as a teapot", "is known to brew no tea") + "xfail: the MIC cannot brew\n"
BROWSER_TEAPOT = """\
scenario: A browser login, then a teapot
needs: [authorization-code]
drivers: [browser]
steps:
  - authorize: {state: s1}
  - login: {user: alice}
  - expect: {redirect: {present: [code]}}
  - token: {grant: authorization_code}
  - expect: {status: 418, cite: RFC2324-2.3.2}
"""
SCENARIOS = {"login/ok.yaml": PASSES, "login/teapot.yaml": TEAPOT, "login/known.yaml": KNOWN,
             "sso/browser-teapot.yaml": BROWSER_TEAPOT}
SERVICE = "oauth2-password"


def cell_id(name: str, driver: str = "http") -> str:
    return f"scenarios/{name}::{SERVICE}::{driver}"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One `mic-harness run` of a passing, two failing (HTTP and browser) and an expected-to-fail cell."""
    root = tmp_path_factory.mktemp("run")
    for name, text in SCENARIOS.items():
        (root / "scenarios" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "scenarios" / name).write_text(text)
    done = subprocess.run([MIC_HARNESS, "run", "scenarios", "--service", SERVICE, "--report", "report"],
                          capture_output=True, text=True, timeout=180, cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    return root / "report"


@pytest.fixture(scope="module")
def results(run):
    return {r["id"]: r for r in json.loads((run / "results.json").read_text())["results"]}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.children, self.text = tag, attrs, [], ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all(self, tag: str | None = None, cls: str | None = None) -> list["Element"]:
        found = [self] if (tag in (None, self.tag) and (cls is None or cls in self.classes)) else []
        return found + [e for child in self.children for e in child.all(tag, cls)]

    def content(self) -> str:
        return self.text + "".join(child.content() for child in self.children)


class Tree(HTMLParser):
    """The page as a tree of elements: enough to find parts by tag, id and class."""

    VOID = {"meta", "img", "br", "input", "link", "hr"}

    def __init__(self, text: str) -> None:
        super().__init__()
        self.root = Element("document", {})
        self._open = [self.root]
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self._open[-1].children.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self._open[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        while len(self._open) > 1 and self._open.pop().tag != tag:
            pass

    def handle_data(self, data):
        self._open[-1].children.append(text := Element("#text", {}))
        text.text = data

    def by_id(self, element_id: str) -> Element:
        return next(e for e in self.root.all() if e.attrs.get("id") == element_id)


@pytest.fixture(scope="module")
def page(run):
    return Tree((run / "report.html").read_text())


def test_results_json_carries_outcomes_tally_steps_and_exchanges(results, run):
    assert {cid: r["outcome"] for cid, r in results.items()} == {
        cell_id("login/known.yaml"): "xfailed", cell_id("login/ok.yaml"): "passed",
        cell_id("login/teapot.yaml"): "failed", cell_id("sso/browser-teapot.yaml", "browser"): "failed"}
    assert results[cell_id("login/known.yaml")]["reason"] == "the MIC cannot brew"
    tally = json.loads((run / "results.json").read_text())["tally"]
    assert tally["connector"]["oauth2"] == {"passed": 1, "warned": 0, "failed": 2, "xfailed": 1, "xpassed": 0,
                                            "skipped": 0}
    assert tally["flow"]["sso"]["failed"] == 1 and tally["flow"]["login"]["passed"] == 1
    ok = results[cell_id("login/ok.yaml")]
    assert (ok["curl"], ok["artifacts"]) == (None, {})
    assert [(x["source"], x["target"], x["method"], x["status"]) for x in ok["exchanges"]] == [
        ("App", "MIC", "POST", 200), ("MIC", "oauth2-idp", "POST", 200), ("MIC", "oauth2-idp", "GET", 200)]
    sent = ok["exchanges"][0]["request"]["body"]
    assert sent["username"] == "alice" and sent["password"].startswith("***")
    assert all(x["started"] <= x["ended"] for x in ok["exchanges"])


def test_a_failed_cell_carries_a_curl_that_names_the_failing_url(results):
    for cid in (cell_id("login/teapot.yaml"), cell_id("sso/browser-teapot.yaml", "browser")):
        failing = [x for x in results[cid]["exchanges"] if x["source"] == "App"][-1]
        command = results[cid]["curl"].splitlines()[-1]
        assert command.startswith("curl -X POST ") and shlex.quote(failing["url"]) in command
        assert failing["url"].endswith("/v3/oauth/token")


def test_a_failed_browser_cell_leaves_a_png_screenshot_and_a_trace(results, run):
    browser = results[cell_id("sso/browser-teapot.yaml", "browser")]
    assert set(browser["artifacts"]) == {"screenshot", "trace"}
    assert (run / browser["artifacts"]["screenshot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with zipfile.ZipFile(run / browser["artifacts"]["trace"]) as trace:
        assert any(name.endswith(".trace") for name in trace.namelist())
    assert results[cell_id("login/teapot.yaml")]["artifacts"] == {}  # HTTP cells have no screen
    assert sorted(p.name for p in (run / "artifacts").iterdir()) == [
        "scenarios-sso-browser-teapot.yaml-oauth2-password-browser"]  # passing cells keep no trace
    flow = [(x["source"], x["target"]) for x in browser["exchanges"]]
    assert ("Browser", "MIC") in flow and ("Browser", "App callback") in flow and ("App", "MIC") in flow


def test_the_page_has_a_summary_cells_steps_diagrams_and_failure_evidence(page, results):
    summary = page.by_id("summary")
    tally = summary.all("table", "tally")[0]
    assert [th.content() for th in tally.all("th") if th.attrs.get("scope") == "col"] == [
        "passed", "warned", "failed", "xfailed", "xpassed", "skipped", "total"]
    rows = {row.all("th")[0].content(): [td.content() for td in row.all("td")] for row in tally.all("tr")[1:]
            if "group" not in row.classes}
    assert rows["all cells"] == ["1", "0", "2", "1", "0", "0", "4"] and rows["oauth2"] == rows["all cells"]
    assert rows["login"] == ["1", "0", "1", "1", "0", "0", "3"]
    cells = {c.all("p", "id")[0].content().split(" · ")[0]: c for c in page.root.all("details", "cell")}
    assert set(cells) == set(results)
    teapot = cells[cell_id("login/teapot.yaml")]
    assert "open" in teapot.attrs and "failed" in teapot.classes
    assert "status: expected 418, got 200" in teapot.all("span", "message")[0].content()
    assert [c.content() for c in teapot.all("cite")][0] == "RFC2324-2.3.2"
    assert [s.all("span", "line")[0].content() for s in teapot.all("li", "step")] == ["line 4", "line 5"]
    assert "curl -X POST" in teapot.all("pre", "curl")[0].content()
    assert len(teapot.all("svg", "sequence")) == 1 and len(teapot.all("g", "back")) == 4
    browser = cells[cell_id("sso/browser-teapot.yaml", "browser")]
    assert browser.all("img", "screenshot")[0].attrs["src"].startswith("data:image/png;base64,")
    trace = browser.all("a", "trace")[0].attrs["href"]
    assert trace == results[cell_id("sso/browser-teapot.yaml", "browser")]["artifacts"]["trace"]
    assert "open" not in cells[cell_id("login/ok.yaml")].attrs
    assert cells[cell_id("login/known.yaml")].all("p", "reason")[0].content() == "the MIC cannot brew"


def test_junit_xml_has_each_cell_and_the_failure_with_its_citation(run):
    suite = ElementTree.parse(run / "junit.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "2", "1")
    cases = {(case.get("classname"), case.get("name")) for case in suite.iter("testcase")}
    assert {("scenarios.login.ok.yaml.oauth2-password", "http"),
            ("scenarios.sso.browser-teapot.yaml.oauth2-password", "browser")} <= cases
    failures = [f.get("message") for f in suite.iter("failure")]
    assert any("expected 418, got 200" in m and "RFC2324-2.3.2" in m for m in failures)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (set MIC_HARNESS_CHROMIUM)")
def test_chromium_shows_the_summary_and_a_sequence_diagram(run):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            view = browser.new_page()
            view.goto((run / "report.html").as_uri())
            assert view.locator("#summary table.tally").is_visible()
            diagram = view.locator("details[open] svg.sequence").first
            assert diagram.is_visible() and diagram.bounding_box()["height"] > 100
            assert diagram.locator("g.participant").count() >= 3
            assert diagram.locator("g.exchange line").count() >= 6
            assert view.locator("img.screenshot").evaluate("img => img.naturalWidth") > 0
            assert view.locator("a.trace").is_visible()
        finally:
            browser.close()


def wire_secrets(form: str = "", url: str = "", headers=None, body: bytes = b"") -> set[str]:
    """The values of secret-named form fields, URL parameters, JSON keys, cookies and credentials."""
    pairs = parse_qsl(form, keep_blank_values=True)
    parts = urlsplit(url)
    pairs += parse_qsl(parts.query) + parse_qsl(parts.fragment)
    found = {value for name, value in pairs if is_secret_name(name)}
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            credentials = value.partition(" ")[2]
            found |= {credentials, *base64.b64decode(credentials).decode().split(":")[1:]} if value.startswith(
                "Basic") else {credentials}
        elif name.lower() == "cookie":
            found |= {c.partition("=")[2] for c in value.split("; ")}
        elif name.lower() == "set-cookie":
            found |= {c.partition("=")[2].split(";")[0] for c in value.split("\n")}
        elif name.lower() == "location":
            found |= wire_secrets(url=value)
    try:
        found |= {v for k, v in _items(json.loads(body)) if is_secret_name(k) and isinstance(v, str)}
    except ValueError:
        pass
    return {value for value in found if len(value) >= 8}


def _items(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key, value
            yield from _items(value)
    elif isinstance(data, list):
        for value in data:
            yield from _items(value)


def test_no_secret_that_crossed_the_wire_reaches_the_report_directory(fleet, tmp_path):
    """App secret, passwords, codes, tokens, CSRF values and cookies, raw as sent: none in results.json or
    report.html."""
    secrets = {fleet.target.app_secret, *fleet.target.users.values()}
    runner = Runner(fleet.target, artifacts=tmp_path / "report" / "artifacts")
    handle = runner._transport.handle_request

    def spy(request):
        response = handle(request)
        if not request.url.path.startswith("/_control/"):  # the logs' masked copies
            secrets.update(wire_secrets(request.read().decode(), str(request.url), request.headers),
                           wire_secrets(headers=response.headers, body=response.read()))
        return response
    runner._transport.handle_request = spy
    make = runner.browsers.driver

    def browser(*args, **kwargs):
        made = make(*args, **kwargs)
        made.context.on("request", lambda r: secrets.update(wire_secrets(r.post_data or "", r.url, r.headers)))
        made.context.on("response", lambda r: secrets.update(wire_secrets(headers=r.headers)))
        return made
    runner.browsers.driver = browser
    (tmp_path / "teapot.yaml").write_text(BROWSER_TEAPOT.replace("drivers: [browser]", "drivers: [browser, http]"))
    try:
        results = [runner.run(cell) for path in (SCENARIOS_DIR / "sso/idp-session.yaml", tmp_path / "teapot.yaml")
                   for cell in scenarios.cells(scenarios.load(path), fleet.target) if cell.service in (SERVICE,
                                                                                                      "oauth2-code")]
    finally:
        runner.close()
    assert [r.outcome for r in results].count("failed") == 4 and len(secrets) > 20
    report.write(tmp_path / "report", [report.cell_json(r) for r in results])
    written = [p for p in (tmp_path / "report").rglob("*") if p.suffix in (".json", ".html")]
    assert len(written) == 2
    for path in written:
        text = path.read_text()
        assert not [secret for secret in secrets if secret in text], path.name
