from __future__ import annotations

import pytest

from harness.fleet import EmbeddedFleet

pytest_plugins = ["pytester"]


@pytest.fixture
def fleet():
    """A fresh embedded fleet (MIC, OAuth2 IdP, demo app) with its own virtual clock."""
    with EmbeddedFleet() as started:
        yield started
