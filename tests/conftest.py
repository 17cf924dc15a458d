from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from harness.fleet import EmbeddedFleet

pytest_plugins = ["pytester"]


@pytest.fixture
def fleet():
    """A fresh embedded fleet (MIC, OAuth2 IdP, demo app) with its own virtual clock."""
    with EmbeddedFleet() as started:
        yield started


@pytest.fixture
def http():
    """A client that shows redirects instead of following them."""
    with httpx2.Client(follow_redirects=False) as client:
        yield client


@pytest.fixture
def code_tokens(fleet, http):
    """``code_tokens(client_id=None)``: MIC tokens after alice logs in at the mock IdP (authorization code)."""
    def log_in(client_id: str | None = None) -> dict:
        target = fleet.target
        client_id = client_id or target.app_key
        start = http.get(f"{target.mic}/v3/oauth/auth", params={
            "client_id": client_id, "redirect_uri": target.redirect_uri, "response_type": "code"})
        upstream = http.post(start.headers["location"], data={"username": "alice", "password": "wonderland"})
        landing = http.get(upstream.headers["location"])
        code = parse_qs(urlsplit(landing.headers["location"]).query)["code"][0]
        tokens = http.post(f"{target.mic}/v3/oauth/token", auth=(client_id, target.app_secret), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": target.redirect_uri})
        assert tokens.status_code == 200, tokens.text
        return tokens.json()
    return log_in
