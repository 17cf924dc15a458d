"""Absolute URLs come from the MIC's configured public URL, never from the Host header a request brought."""
from urllib.parse import parse_qs, urlsplit

import pytest

from mic_reference import create_app
from plumbing.clock import VirtualClock

PUBLIC = "https://mic.example"
SPOOFED = {"Host": "attacker.example"}


@pytest.fixture(scope="module")
def client():
    return create_app(clock=VirtualClock(), test_mode=True, public_url=PUBLIC + "/",
                      variables={"OAUTH2_IDP": "http://127.0.0.1:9", "APP": "http://app.test"}).test_client()


def test_temp_login_uri(client):
    answer = client.post("/v3/oauth/auth", base_url="https://attacker.example", data={
        "client_id": "kid_demo.oauth2-password", "redirect_uri": "http://app.test/callback", "response_type": "code"})
    assert answer.get_json()["temp_login_uri"].startswith(f"{PUBLIC}/oauth/authenticate/")


def test_the_upstream_redirect_uri(client):
    answer = client.get("/v3/oauth/auth", base_url="https://attacker.example", query_string={
        "client_id": "kid_demo.oauth2-code", "redirect_uri": "http://app.test/callback", "response_type": "code"})
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["location"]).query)["redirect_uri"] == [f"{PUBLIC}/oauth2/redirect"]


def test_saml_metadata(client):
    metadata = client.get("/v2/saml/metadata", headers=SPOOFED).get_data(as_text=True)
    assert f'entityID="{PUBLIC}/kinvey-mobile-identity-connect"' in metadata
    assert f'Location="{PUBLIC}/v2/saml/assertion/"' in metadata
    assert "attacker.example" not in metadata


def test_the_fleet_says_the_url_it_serves_on(fleet, http):
    answer = http.post(f"{fleet.target.mic}/v3/oauth/auth", headers=SPOOFED, data={
        "client_id": "kid_demo.oauth2-password", "redirect_uri": fleet.target.redirect_uri, "response_type": "code"})
    assert answer.json()["temp_login_uri"].startswith(f"{fleet.urls['mic']}/oauth/authenticate/")


def test_a_public_url_must_be_http():
    with pytest.raises(ValueError, match="public URL"):
        create_app(test_mode=True, public_url="mic.example",
                   variables={"OAUTH2_IDP": "http://127.0.0.1:9", "APP": "http://app.test"})
