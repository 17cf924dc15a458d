"""The mock Facebook over real HTTP: the dialog (login, the Facebook session, the
permissions screen, cancel), Graph's code exchange and long-lived tokens, /me by
permission, appsecret_proof, Graph's errors, revocation by the person, and expiry on
the moved clock."""
import hashlib
import hmac
import re
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from mock_idps import facebook
from plumbing.clock import VirtualClock
from plumbing.fleet import Fleet

APP, SECRET = "100000000000043", "lax-app-secret"
PROOF_APP, PROOF_SECRET = "100000000000042", "mic-facebook-secret"
REDIRECT = "http://mic.test/facebook/redirect"


@pytest.fixture(scope="module")
def clock():
    return VirtualClock(frozen=True)


@pytest.fixture(scope="module")
def idp(clock):
    fleet = Fleet()
    fleet.add("facebook", lambda urls: facebook.create_app(clock=clock, test_mode=True,
                                                           variables={"MIC": "http://mic.test"}))
    with fleet:
        yield fleet.urls["facebook"]


@pytest.fixture
def browser(idp):
    """A person's browser: its own cookies; every person starts as one who never used the apps."""
    with httpx2.Client(base_url=idp, follow_redirects=False) as client:
        yield client
    httpx2.delete(f"{idp}/_control/faults")  # also forgets the permission decisions


@pytest.fixture
def graph(idp):
    with httpx2.Client(base_url=idp) as client:
        yield client


def dialog(browser, app=APP, scope="email", **extra):
    return browser.get("/v3.0/dialog/oauth", params={"client_id": app, "redirect_uri": REDIRECT, "state": "s1",
                                                     "scope": scope, "response_type": "code", **extra})


def sign_in(browser, user="alice", password="wonderland", app=APP, scope="email", **extra):
    page = dialog(browser, app, scope, **extra)
    assert page.status_code == 200 and "Sign in" in page.text
    return browser.post(str(page.url), data={"username": user, "password": password})


def form_token(page):
    return re.search(r'name="fb_dtsg" value="([^"]+)"', page.text).group(1)


def decide(browser, page, decision="allow", **ticked):
    return browser.post(str(page.url), data={"fb_dtsg": form_token(page), "decision": decision, **ticked})


def back(response):
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(graph, code, app=APP, secret=SECRET, redirect_uri=REDIRECT):
    return graph.get("/v3.0/oauth/access_token", params={"client_id": app, "client_secret": secret,
                                                         "redirect_uri": redirect_uri, "code": code})


def token_for(browser, graph, user="alice", password="wonderland", grant_email=True, app=APP, secret=SECRET):
    page = sign_in(browser, user, password, app)
    granted = decide(browser, page, **({"grant_email": "on"} if grant_email else {}))
    answer = exchange(graph, back(granted)["code"], app, secret)
    assert answer.status_code == 200, answer.text
    return answer.json()


def error_of(response, status=400):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["fbtrace_id"]
    return error


def test_a_login_asks_for_permissions_then_comes_back_with_a_code_for_a_token(browser, graph):
    page = sign_in(browser)
    assert page.status_code == 200 and 'name="grant_email"' in page.text and "Alice Liddell" in page.text
    params = back(decide(browser, page, grant_email="on"))
    assert params["state"] == "s1" and "error" not in params
    token = exchange(graph, params["code"]).json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 7200
    me = graph.get("/v3.0/me", params={"fields": "id,name,email", "access_token": token["access_token"]}).json()
    assert me == {"id": "10000000000000001", "name": "Alice Liddell", "email": "alice@example.com"}
    permissions = graph.get("/v3.0/me/permissions", headers={"Authorization": f"OAuth {token['access_token']}"})
    assert permissions.json()["data"] == [{"permission": "public_profile", "status": "granted"},
                                          {"permission": "email", "status": "granted"}]


def test_a_declined_permission_leaves_its_field_out_and_is_not_asked_again(browser, graph):
    token = token_for(browser, graph, user="bob", password="builder", grant_email=False)["access_token"]
    me = graph.get("/v3.0/me", params={"fields": "id,name,email", "access_token": token}).json()
    assert me == {"id": "10000000000000002", "name": "Bob Builder"}
    statuses = {p["permission"]: p["status"] for p in graph.get(
        "/v3.0/me/permissions", params={"access_token": token}).json()["data"]}
    assert statuses == {"public_profile": "granted", "email": "declined"}
    # the Facebook session: no password, and a declined permission is not asked again...
    assert "code" in back(dialog(browser))
    # ...unless the app asks for it again explicitly
    again = dialog(browser, auth_type="rerequest")
    assert again.status_code == 200 and 'name="grant_email"' in again.text


def test_cancel_goes_back_refused(browser):
    params = back(decide(browser, sign_in(browser), decision="cancel"))
    assert params == {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                      "error_reason": "user_denied", "state": "s1"}


def test_the_permissions_form_needs_the_page_s_own_token(browser):
    page = sign_in(browser)
    forged = browser.post(str(page.url), data={"fb_dtsg": "0" * 64, "decision": "allow"})
    assert error_of(forged)["code"] == 100


def test_wrong_password_shows_the_page_again(browser):
    response = sign_in(browser, password="nope")
    assert response.status_code == 401 and "not right" in response.text and "nope" not in response.text


@pytest.mark.parametrize("query, code", [
    ({"client_id": "999"}, 101),
    ({"redirect_uri": REDIRECT + "/evil"}, 191),
    ({"scope": "email,publish_actions"}, 100),
    ({"response_type": "token"}, 100),
])
def test_a_bad_dialog_request_is_refused_and_never_redirected(browser, query, code):
    params = {"client_id": APP, "redirect_uri": REDIRECT, "response_type": "code"} | query
    response = browser.get("/v3.0/dialog/oauth", params=params)
    assert error_of(response)["code"] == code and "location" not in response.headers


def test_a_code_serves_once_for_its_app_and_redirect_uri_within_its_ttl(browser, graph, clock):
    code = back(decide(browser, sign_in(browser), grant_email="on"))["code"]
    assert error_of(exchange(graph, code, secret="wrong"))["code"] == 1
    assert error_of(exchange(graph, code, app="999"))["code"] == 101
    assert error_of(exchange(graph, code, redirect_uri=REDIRECT + "/x"))["error_subcode"] == 36008
    assert exchange(graph, code).status_code == 200
    assert error_of(exchange(graph, code))["error_subcode"] == 36009
    late = back(dialog(browser))["code"]
    clock.advance(601)
    assert error_of(exchange(graph, late))["error_subcode"] == 36007
    assert error_of(exchange(graph, "not-a-code"))["code"] == 100
    missing = graph.get("/v3.0/oauth/access_token", params={"client_id": APP, "client_secret": SECRET})
    assert error_of(missing)["message"] == "Missing code parameter."


def test_tokens_expire_on_the_clock_and_a_live_one_becomes_long_lived(browser, graph, clock):
    short = token_for(browser, graph)["access_token"]
    long = graph.get("/v3.0/oauth/access_token", params={"grant_type": "fb_exchange_token", "client_id": APP,
                                                         "client_secret": SECRET, "fb_exchange_token": short})
    assert long.status_code == 200 and long.json()["expires_in"] == 5184000
    long_token = long.json()["access_token"]
    clock.advance(7200)
    expired = error_of(graph.get("/v3.0/me", params={"access_token": short}))
    assert (expired["code"], expired["error_subcode"], expired["type"]) == (190, 463, "OAuthException")
    assert graph.get("/v3.0/me", params={"access_token": long_token}).status_code == 200
    again = graph.get("/v3.0/oauth/access_token", params={"grant_type": "fb_exchange_token", "client_id": APP,
                                                          "client_secret": SECRET, "fb_exchange_token": short})
    assert error_of(again)["error_subcode"] == 463
    clock.advance(5184000)
    assert error_of(graph.get("/v3.0/me", params={"access_token": long_token}))["error_subcode"] == 463


def test_a_token_graph_does_not_know_or_none_at_all(graph):
    unknown = error_of(graph.get("/v3.0/me", params={"access_token": "EAAnothing"}))
    assert unknown["code"] == 190 and "error_subcode" not in unknown
    assert error_of(graph.get("/v3.0/me"))["code"] == 2500


def test_unknown_fields_are_a_bad_parameter(browser, graph):
    token = token_for(browser, graph)["access_token"]
    error = error_of(graph.get("/v3.0/me", params={"fields": "id,password", "access_token": token}))
    assert error["code"] == 100 and "(password)" in error["message"]


def test_appsecret_proof_is_checked_when_sent_and_demanded_where_the_app_requires_it(browser, graph):
    token = token_for(browser, graph)["access_token"]
    proof = hmac.new(SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
    assert graph.get("/v3.0/me", params={"access_token": token, "appsecret_proof": proof}).status_code == 200
    wrong = error_of(graph.get("/v3.0/me", params={"access_token": token, "appsecret_proof": "0" * 64}))
    assert (wrong["code"], wrong["type"]) == (100, "GraphMethodException")
    browser.cookies.clear()  # signs in afresh
    strict = token_for(browser, graph, app=PROOF_APP, secret=PROOF_SECRET)["access_token"]
    assert error_of(graph.get("/v3.0/me", params={"access_token": strict}))["code"] == 100
    proof = hmac.new(PROOF_SECRET.encode(), strict.encode(), hashlib.sha256).hexdigest()
    assert graph.get("/v3.0/me", params={"access_token": strict, "appsecret_proof": proof}).status_code == 200


@pytest.mark.parametrize("reason, subcode", [("deauthorized", 458), ("password_changed", 460)])
def test_revocation_by_the_person_kills_their_tokens_with_graph_s_reason(browser, graph, idp, reason, subcode):
    token = token_for(browser, graph)["access_token"]
    revoked = httpx2.post(f"{idp}/_control/revoke", json={"user": "alice", "reason": reason, "app": APP})
    assert revoked.status_code == 200 and revoked.json()["revoked"] >= 1
    error = error_of(graph.get("/v3.0/me", params={"access_token": token}))
    assert (error["code"], error["error_subcode"]) == (190, subcode)
    assert error_of(graph.get("/v3.0/me/permissions", params={"access_token": token}))["error_subcode"] == subcode
    again = dialog(browser)  # the session lives; a removed app asks for its permissions again
    assert (again.status_code == 200 and 'name="grant_email"' in again.text) == (reason == "deauthorized")


def test_the_revoke_control_refuses_what_it_does_not_know(idp):
    assert httpx2.post(f"{idp}/_control/revoke", json={"user": "mallory"}).status_code == 404
    assert httpx2.post(f"{idp}/_control/revoke", json={"user": "alice", "reason": "bored"}).status_code == 400
    assert httpx2.post(f"{idp}/_control/revoke", json={"app": APP}).status_code == 400
    assert httpx2.get(f"{idp}/_control/revoke").status_code == 405


def test_debug_token_tells_the_app_about_a_token(browser, graph, clock):
    token = token_for(browser, graph)["access_token"]
    app_token = f"{APP}|{SECRET}"
    data = graph.get("/debug_token", params={"input_token": token, "access_token": app_token}).json()["data"]
    assert data["is_valid"] and data["user_id"] == "10000000000000001" and data["app_id"] == APP
    assert data["scopes"] == ["public_profile", "email"] and data["expires_at"] - data["issued_at"] == 7200
    clock.advance(7200)
    data = graph.get("/v3.0/debug_token", params={"input_token": token, "access_token": app_token}).json()["data"]
    assert not data["is_valid"] and data["error"]["subcode"] == 463
    unknown = graph.get("/debug_token", params={"input_token": "EAAx", "access_token": app_token}).json()["data"]
    assert unknown == {"is_valid": False, "error": {"code": 190, "message": "Invalid OAuth access token."}}
    assert error_of(graph.get("/debug_token", params={"input_token": token, "access_token": f"{APP}|x"}))[
        "code"] == 190


def test_the_facebook_session_logs_in_again_without_a_password_until_it_ends(browser, graph, idp):
    token_for(browser, graph)
    assert "code" in back(dialog(browser))
    browser.post("/logout")
    assert "Sign in" in dialog(browser).text
