"""Headers that keep the MIC's pages out of frames, its bearer answers out of caches, and its versions unsaid."""
import re
import subprocess
import sys

import httpx2

from tests.test_mic_mfa import password_page

FRAMING = {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'",
           "x-content-type-options": "nosniff"}
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def carries(response, wanted: dict[str, str]) -> None:
    assert {name: response.headers.get(name) for name in wanted} == wanted, response.headers


def test_the_login_and_totp_pages_cannot_be_framed(fleet, http):
    target = fleet.target
    page = http.get(f"{target.mic}/v3/oauth/auth", params={
        "client_id": "kid_demo.oauth2-password", "redirect_uri": target.redirect_uri, "response_type": "code"})
    assert page.status_code == 200 and "<form" in page.text
    carries(page, FRAMING)
    totp = password_page(fleet, http)
    assert 'name="totp_code"' in totp.text
    carries(totp, FRAMING)


def test_every_answer_says_nosniff_and_no_versions(fleet, http):
    for response in (http.get(f"{fleet.target.mic}/nowhere"), http.post(f"{fleet.target.mic}/v3/oauth/token"),
                     http.get(f"{fleet.target.mic}/v3/saml/metadata")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert not re.search(r"\d", response.headers.get("server", "")), response.headers["server"]


def test_bearer_answers_are_not_cached(fleet, http, code_tokens):
    target = fleet.target
    asked = http.post(f"{target.mic}/v3/oauth/auth", data={
        "client_id": "kid_demo.oauth2-password", "redirect_uri": target.redirect_uri, "response_type": "code"})
    assert "temp_login_uri" in asked.json()
    carries(asked, NO_STORE)
    tokens = code_tokens()
    login = http.post(f"{target.mic}/user/{target.app_key}/login", auth=(target.app_key, target.app_secret),
                      json={"_socialIdentity": {"kinveyAuth": {"access_token": tokens["access_token"]}}})
    assert login.status_code == 200 and "authtoken" in login.json()["_kmd"]
    carries(login, NO_STORE)
    me = http.get(f"{target.mic}/user/{target.app_key}/_me",
                  headers={"Authorization": f"Kinvey {login.json()['_kmd']['authtoken']}"})
    carries(me, NO_STORE)


def test_the_standalone_mic_names_no_versions(tmp_path):
    served = subprocess.Popen([sys.executable, "-m", "mic_reference", "--test-mode", "--port", "0",
                               "--var", "OAUTH2_IDP=http://127.0.0.1:9", "--var", "APP=http://app.test"],
                              cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"http://\S+", served.stdout.readline()).group(0)
        server = httpx2.get(f"{url}/_control/health").headers.get("server", "")
        assert server and not re.search(r"\d", server), server
    finally:
        served.terminate()
        served.wait(10)
