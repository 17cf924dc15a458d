"""MIC's own login page: CSRF-protected, retries without echoing passwords, custom CSS, hosted pages."""
import re
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from mic_reference.views.login_page import open_ref, sign_ref

SERVICE = "kid_demo.oauth2-password"


def open_page(fleet, http, client_id=SERVICE, state="st"):
    target = fleet.target
    return http.get(f"{target.mic}/v3/oauth/auth", params={
        "client_id": client_id, "redirect_uri": target.redirect_uri, "response_type": "code", "state": state})


def form_of(page):
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return action, fields


def post(fleet, http, page, password="wonderland", **override):
    action, fields = form_of(page)
    return http.post(fleet.target.mic + action, data={**fields, "username": "alice", "password": password,
                                                      **override})


def test_the_page_logs_in_and_redirects_with_a_code(fleet, http):
    landing = post(fleet, http, open_page(fleet, http))
    query = parse_qs(urlsplit(landing.headers["location"]).query)
    assert landing.status_code == 302 and query["state"] == ["st"] and "code" in query


def test_a_form_without_its_csrf_token_or_cookie_is_refused(fleet, http):
    assert post(fleet, http, open_page(fleet, http), csrf_token="").status_code == 400
    page = open_page(fleet, http)
    with httpx2.Client(follow_redirects=False) as other_browser:  # the attacker's form, the victim's browser
        assert post(fleet, other_browser, page).status_code == 400


def test_wrong_credentials_show_the_page_again_without_the_password(fleet, http):
    again = post(fleet, http, open_page(fleet, http), password="s3cret-typo")
    assert again.status_code == 401 and "not right" in again.text
    assert 'value="alice"' in again.text and "s3cret-typo" not in again.text
    landing = post(fleet, http, again)
    assert landing.status_code == 302 and "code" in parse_qs(urlsplit(landing.headers["location"]).query)


def test_the_page_carries_the_services_custom_css(fleet, http):
    page = open_page(fleet, http)
    assert f'<link rel="stylesheet" href="{fleet.urls["app"]}/brand.css">' in page.text
    assert "brand.css" not in open_page(fleet, http, client_id="kid_demo.hosted-login").text


def test_a_hosted_page_gets_the_parameters_and_a_signed_reference(fleet, http):
    handoff = open_page(fleet, http, client_id="kid_demo.hosted-login")
    assert handoff.status_code == 302 and handoff.headers["location"].startswith(fleet.urls["app"] + "/hosted-login")
    query = {k: v[0] for k, v in parse_qs(urlsplit(handoff.headers["location"]).query).items()}
    assert query["client_id"] == "kid_demo.hosted-login" and query["state"] == "st"
    wrong = http.post(f"{fleet.target.mic}/oauth/authenticate",
                      data={"login_ref": query["login_ref"], "username": "alice", "password": "nope"})
    assert wrong.status_code == 302 and "login_error" in wrong.headers["location"]  # back to the hosted page
    retry = {k: v[0] for k, v in parse_qs(urlsplit(wrong.headers["location"]).query).items()}
    landing = http.post(f"{fleet.target.mic}/oauth/authenticate",
                        data={"login_ref": retry["login_ref"], "username": "alice", "password": "wonderland"})
    assert landing.status_code == 302 and landing.headers["location"].startswith(fleet.target.redirect_uri)
    replay = http.post(f"{fleet.target.mic}/oauth/authenticate",
                       data={"login_ref": retry["login_ref"], "username": "alice", "password": "wonderland"})
    assert replay.status_code == 400


@pytest.mark.parametrize("tamper", [lambda s: s[:-3] + "AAA", lambda s: "x" + s, lambda s: "", lambda s: "a.b.c"])
def test_a_tampered_hosted_reference_is_refused(fleet, http, tamper):
    handoff = open_page(fleet, http, client_id="kid_demo.hosted-login")
    signed = parse_qs(urlsplit(handoff.headers["location"]).query)["login_ref"][0]
    response = http.post(f"{fleet.target.mic}/oauth/authenticate",
                         data={"login_ref": tamper(signed), "username": "alice", "password": "wonderland"})
    assert response.status_code == 400


def test_a_hosted_reference_expires_on_the_clock(fleet):
    keyring = fleet.fleet.app("mic").extensions["mic"].vault.keyring
    signed = sign_ref(keyring, "ref-1", expires_at=1000.0)
    assert open_ref(keyring, signed, now=999.0) == "ref-1"
    assert open_ref(keyring, signed, now=1000.0) is None
