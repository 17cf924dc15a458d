"""The SAML-Redirect service type: the AuthnRequest travels in the redirect's query
(HTTP-Redirect binding, deflated); the Response comes back by HTTP-POST."""
from __future__ import annotations

import httpx2

from ..config import AuthService
from .saml import BINDING_HTTP_REDIRECT, PROVIDER_SCHEMA, SamlConnector

CALLBACK_PATH = None  # the assertion consumer is the MIC's, under each API version

__all__ = ["PROVIDER_SCHEMA", "CALLBACK_PATH", "build"]


def build(service: AuthService, transport: httpx2.BaseTransport) -> SamlConnector:
    return SamlConnector(service, BINDING_HTTP_REDIRECT)
