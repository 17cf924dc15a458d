"""A second factor on MIC's login page: TOTP enrolled at first login, checked on the shared clock."""
import re
from urllib.parse import parse_qs, urlsplit

import httpx2
import pyotp

SERVICE = "kid_demo.mfa-password"


def password_page(fleet, http):
    target = fleet.target
    page = http.get(f"{target.mic}/v3/oauth/auth", params={
        "client_id": SERVICE, "redirect_uri": target.redirect_uri, "response_type": "code", "state": "st"})
    return submit(fleet, http, page, username="alice", password="wonderland")


def submit(fleet, http, page, **fields):
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return http.post(fleet.target.mic + action, data={**hidden, **fields})


def mic_now(fleet):
    return httpx2.get(f"{fleet.urls['mic']}/_control/clock").json()["now"]


def code_at(fleet, secret, offset=0):
    return pyotp.TOTP(secret).at(mic_now(fleet) + offset)


def test_first_login_enrolls_then_later_logins_ask_for_a_code(fleet, http):
    enrolment = password_page(fleet, http)
    assert enrolment.status_code == 200 and "authenticator app" in enrolment.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', enrolment.text).group(1)
    assert f"otpauth://totp/Kinvey%20MIC:u-alice?secret={secret}" in enrolment.text
    landing = submit(fleet, http, enrolment, totp_code=code_at(fleet, secret))
    assert landing.status_code == 302 and parse_qs(urlsplit(landing.headers["location"]).query)["state"] == ["st"]

    httpx2.post(f"{fleet.urls['mic']}/_control/clock", json={"advance": 3 * 86400})
    challenge = password_page(fleet, http)
    assert challenge.status_code == 200 and 'id="totp-secret"' not in challenge.text  # enrolled: no new secret
    stale = submit(fleet, http, challenge, totp_code=pyotp.TOTP(secret).at(mic_now(fleet) - 3 * 86400))
    assert stale.status_code == 401 and "not right" in stale.text
    landing = submit(fleet, http, stale, totp_code=code_at(fleet, secret))
    assert landing.status_code == 302 and "code" in parse_qs(urlsplit(landing.headers["location"]).query)


def test_a_wrong_code_while_enrolling_keeps_the_same_secret(fleet, http):
    enrolment = password_page(fleet, http)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrolment.text).group(1)
    again = submit(fleet, http, enrolment, totp_code="000000" if code_at(fleet, secret) != "000000" else "111111")
    assert again.status_code == 401 and secret in again.text


def test_the_code_page_cannot_be_skipped_or_replayed(fleet, http):
    enrolment = password_page(fleet, http)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrolment.text).group(1)
    password_ref = re.search(r'action="([^"]+)"', enrolment.text).group(1).removesuffix("/totp")
    skipped = http.post(fleet.target.mic + password_ref, data={"username": "alice", "password": "wonderland"})
    assert skipped.status_code == 400
    # the attempt spent the second step: the login starts over
    assert submit(fleet, http, enrolment, totp_code=code_at(fleet, secret)).status_code == 400
    enrolment = password_page(fleet, http)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrolment.text).group(1)
    assert submit(fleet, http, enrolment, totp_code=code_at(fleet, secret)).status_code == 302
    assert submit(fleet, http, enrolment, totp_code=code_at(fleet, secret)).status_code == 400


def test_an_mfa_service_has_no_password_grant_and_no_temp_login(fleet, http):
    target = fleet.target
    grant = http.post(f"{target.mic}/v3/oauth/token", auth=(SERVICE, target.app_secret), data={
        "grant_type": "password", "username": "alice", "password": "wonderland"})
    assert grant.status_code == 400 and grant.json()["error"] == "unauthorized_client"
    temp = http.post(f"{target.mic}/v3/oauth/auth", data={
        "client_id": SERVICE, "redirect_uri": target.redirect_uri, "response_type": "code"})
    assert temp.status_code == 400 and temp.json()["error"] == "unauthorized_client"


def test_a_code_serves_once(fleet, http):
    enrolment = password_page(fleet, http)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrolment.text).group(1)
    httpx2.post(f"{fleet.urls['mic']}/_control/clock", json={"freeze": True})
    code = code_at(fleet, secret)
    assert submit(fleet, http, enrolment, totp_code=code).status_code == 302
    replay = submit(fleet, http, password_page(fleet, http), totp_code=code)
    assert replay.status_code == 401 and "not right" in replay.text  # RFC 6238 5.2: the same code again
    httpx2.post(f"{fleet.urls['mic']}/_control/clock", json={"advance": 30})
    assert submit(fleet, http, replay, totp_code=code_at(fleet, secret)).status_code == 302
