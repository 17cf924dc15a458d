from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

import postgres
from harness.fleet import EmbeddedFleet
from mic_reference.config import DEMO, load
from mic_reference.connectors import available
from plumbing.yamlfile import YamlError

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def postgres_server():
    if postgres.binaries() is None:
        pytest.skip("no PostgreSQL server installed (Debian package postgresql)")
    with postgres.server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh, empty database on the session's PostgreSQL server."""
    from sqlalchemy import create_engine, text

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        db.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres_server.rsplit("/", 1)[0] + f"/{name}"


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


@pytest.fixture
def demo_refusal(tmp_path):
    """``demo_refusal(old, new)``: the error loading the MIC's demo configuration with ``old`` made ``new``."""
    def refusal(old: str, new: str) -> YamlError:
        text = DEMO.read_text()
        assert old in text
        path = tmp_path / "mic.yaml"
        path.write_text(text.replace(old, new, 1))
        with pytest.raises(YamlError) as raised:
            load(path, {"OAUTH2_IDP": "http://idp", "APP": "http://app"},
                 provider_schemas={name: module.PROVIDER_SCHEMA for name, module in available().items()})
        return raised.value
    return refusal
