"""Both drivers get past pages as real IdPs write them: several forms on the login page, and
SAML HTTP-POST pages posted by onload, by a script, or by a script file with a noscript button.

The pages are served by a small Flask app on a loopback port; the app's redirect URI is its
``/app/callback``, where a flow ends.
"""
import threading

import httpx2
import pytest
from flask import Flask, abort, redirect, request
from werkzeug.serving import make_server

from harness.context import StepFailed
from harness.drivers.browser import BrowserSession
from harness.drivers.http import HttpDriver

HIDDEN = '<input type="hidden" name="SAMLResponse" value="{value}"><input type="hidden" name="RelayState" value="rs">'
#: the page that carries the Response onward, by what posts it
AUTOPOSTS = {
    "onload": '<body onload="document.forms[0].submit()"><form method="post" action="/acs">' + HIDDEN + '</form></body>',
    "script-forms-index": '<body><form action="/lang"><select name="lang"><option>en</option></select>'
                          '<button>Change</button></form><form method="post" action="/acs">' + HIDDEN + '</form>'
                          '<script>window.onload = function () { document.forms[1].submit(); };</script></body>',
    "script-by-id": '<body><p>Redirecting…</p><form id="saml" method="post" action="/acs">' + HIDDEN + '</form>'
                    '<script type="text/javascript">document.getElementById("saml").submit();</script></body>',
    "script-forms-name": '<body><form action="/lang"><input name="q"></form><form name="saml" method="post" '
                         'action="/acs">' + HIDDEN + '</form><script>document.forms.saml.submit()</script></body>',
    "script-query-selector": '<body><form id="saml-form" method="post" action="/acs">' + HIDDEN + '<noscript>'
                             '<input type="submit" value="Continue"></noscript></form>'
                             "<script>document.querySelector('#saml-form').submit();</script></body>",
    # SimpleSAMLphp and Shibboleth: a script file posts the form; a noscript button for browsers without one
    "script-file-noscript": '<head><script src="/post.js"></script></head><body><noscript><p>Press Continue.</p>'
                            '</noscript><form method="post" action="/acs">' + HIDDEN +
                            '<noscript><button type="submit">Continue</button></noscript></form></body>',
}
#: the login page: a read-only summary form first, then the login form (with a hidden CSRF field)
LOGIN = """<!doctype html><html><body><h1>Sign in</h1>
<form id="summary" action="/summary" method="get"><input name="request" value="AuthnRequest 42" readonly>
<button type="submit" id="details">Details</button></form>
<form id="login-form" name="login" action="/login?then={then}" method="post">
<input type="hidden" name="csrf" value="token-1"><input name="user"><input name="pass" type="password">
<button type="submit" id="go" name="action" value="login">Sign in</button></form></body></html>"""
#: two forms that both take a user name and password: only the recipe's selector tells which logs in
TWO_LOGINS = """<!doctype html><html><body><form id="register" action="/register" method="post">
<input name="user"><input name="pass" type="password"><button type="submit" id="go">Register</button></form>
<form id="login-form" name="login" action="/login?then=onload" method="post">
<input type="hidden" name="csrf" value="token-1"><input name="user"><input name="pass" type="password">
<button type="submit" id="go2" name="action" value="login">Sign in</button></form></body></html>"""


def pages() -> Flask:
    app = Flask(__name__)

    @app.get("/start/<then>")
    def start(then):
        return LOGIN.format(then=then)

    @app.get("/two")
    def two():
        return TWO_LOGINS

    @app.post("/login")
    def login():
        form = request.form
        if (form.get("user"), form.get("pass"), form.get("csrf"), form.get("action")) != \
                ("alice", "secret", "token-1", "login"):
            return "<p>Wrong password</p>", 401
        return redirect(f"/post/{request.args['then']}")

    @app.post("/register")
    def register():
        return "<p>Registered</p>", 200

    @app.get("/post/<kind>")
    def post_page(kind):
        if kind not in AUTOPOSTS:
            abort(404)
        return f"<!doctype html><html>{AUTOPOSTS[kind].replace('{value}', kind)}</html>"

    @app.get("/post.js")
    def post_js():
        return ("document.addEventListener('DOMContentLoaded', function () "
                "{ document.getElementsByTagName('form')[0].submit(); });"), 200, {"Content-Type": "text/javascript"}

    @app.get("/stuck")
    def stuck():  # a hidden form nothing posts, and a field a person fills: not a page that posts itself
        return '<form method="post" action="/acs"><input name="note"><input type="hidden" name="SAMLResponse" ' \
               'value="x"></form><script>function later() { document.forms[0].submit(); }</script>'

    @app.post("/acs")
    def acs():
        return redirect(f"/app/callback?code={request.form['SAMLResponse']}&relay={request.form['RelayState']}")

    return app


@pytest.fixture(scope="module")
def site():
    server = make_server("127.0.0.1", 0, pages(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browsers():
    session = BrowserSession()
    yield session
    session.close()


@pytest.fixture(params=["http", "browser"])
def driver(request, site, browsers):
    made = HttpDriver(f"{site}/app/callback", httpx2.HTTPTransport()) if request.param == "http" \
        else browsers.driver(f"{site}/app/callback")
    yield made
    made.close()


CREDENTIALS = {"user": "alice", "pass": "secret"}


@pytest.mark.parametrize("kind", sorted(AUTOPOSTS))
def test_the_login_form_is_found_among_others_and_the_response_page_passed(driver, site, kind):
    page = driver.open(f"{site}/start/{kind}")
    assert not page.at_app and "Sign in" in page.text
    landing = driver.submit_form(CREDENTIALS, "#go")
    assert landing.at_app, landing.url
    assert landing.params == {"code": kind, "relay": "rs"}


@pytest.mark.parametrize("selector", ["#login-form", "form[name=login]", 'form[action*="/login"]',
                                      "form[action^='/login'][method=post]"])
def test_the_recipe_form_selector_picks_the_login_form(driver, site, selector):
    driver.open(f"{site}/two")
    assert driver.submit_form(CREDENTIALS, "#go2", form=selector).at_app


def test_without_a_selector_the_first_form_with_the_fields_is_filled(driver, site):
    driver.open(f"{site}/two")
    landing = driver.submit_form(CREDENTIALS, "#go")
    assert not landing.at_app and "Registered" in landing.text


def test_a_page_without_the_recipe_fields_is_described(driver, site):
    driver.open(f"{site}/start/onload")
    with pytest.raises(StepFailed) as failed:
        driver.submit_form({"username": "alice", "password": "secret"}, "#go")
    message = str(failed.value)
    assert f"{site}/start/onload" in message and "no form has the fields username, password" in message
    assert "action=/summary" in message and "fields: csrf, user, pass, action" in message


def test_a_submit_control_outside_the_chosen_form_is_not_pressed(driver, site):
    driver.open(f"{site}/two")
    with pytest.raises(StepFailed, match="has no submit control '#go2'"):
        driver.submit_form(CREDENTIALS, "#go2")


def test_a_selector_that_matches_no_form_is_named(driver, site):
    driver.open(f"{site}/two")
    with pytest.raises(StepFailed, match="no form matches the recipe's form selector '#sign-in'"):
        driver.submit_form(CREDENTIALS, "#go", form="#sign-in")


def test_a_form_with_a_field_to_fill_is_not_posted_for_the_user(driver, site):
    landing = driver.open(f"{site}/stuck")
    assert not landing.at_app and landing.url == f"{site}/stuck"


def test_the_http_driver_says_which_selectors_it_reads(site):
    driver = HttpDriver(f"{site}/app/callback", httpx2.HTTPTransport())
    driver.open(f"{site}/two")
    with pytest.raises(StepFailed, match="not one the HTTP driver reads"):
        driver.submit_form(CREDENTIALS, "#go", form="body > form:nth-of-type(2)")
    # the status of the page it stopped at is part of the description
    driver.submit_form({"user": "alice", "pass": "wrong"}, "#go2", form="#login-form")
    with pytest.raises(StepFailed, match=r"/login\?then=onload \(status 401\): no form has the fields user"):
        driver.submit_form(CREDENTIALS, "#go")
