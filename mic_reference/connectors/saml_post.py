"""The SAML-POST service type: the AuthnRequest travels in a form the browser posts to
the IdP (HTTP-POST binding); the Response comes back the same way."""
from __future__ import annotations

import httpx2

from ..config import AuthService
from .saml import BINDING_HTTP_POST, PROVIDER_SCHEMA, SamlConnector

CALLBACK_PATH = None  # the assertion consumer is the MIC's, under each API version

__all__ = ["PROVIDER_SCHEMA", "CALLBACK_PATH", "build"]


def build(service: AuthService, transport: httpx2.BaseTransport) -> SamlConnector:
    return SamlConnector(service, BINDING_HTTP_POST)
