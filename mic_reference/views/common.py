"""What the endpoints share: the app's state and the versions MIC answers under."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..oauth.clients import ClientDirectory
from ..oauth.server import MicAuthorizationServer
from ..vault import Vault

#: ``/v1/…``, ``/v2/…``, ``/v3/…`` and the unversioned form all answer (the SDKs use each).
VERSION_PREFIXES = ("", "/v1", "/v2", "/v3")


@dataclass
class Mic:
    server: MicAuthorizationServer
    clients: ClientDirectory
    vault: Vault


def mic() -> Mic:
    return current_app.extensions["mic"]
