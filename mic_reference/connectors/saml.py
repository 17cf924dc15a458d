"""SAML 2.0 Web SSO connectors (SP-initiated only): the MIC as a service provider.

``provider.remoteService`` is the IdP's single sign-on URL; ``options.idpCertificate``
its signing certificate (PEM, or the Base64 of its DER as metadata carries it);
``nameIdFormat`` the NameID format asked for (default emailAddress); ``idpEntityId``
the Issuer its Responses must carry (default: the SSO URL); ``logoutUri`` where the
app may send the user to end the IdP session (the MIC does no single logout);
``clockSkew`` the seconds of leeway on validity windows.

The AuthnRequest's ID is derived from the login's reference (its RelayState), so the
Response's InResponseTo must match the very login it comes back to, and that login
is consumed when it does: no request is answered twice. Each assertion ID is taken
once while it is valid. The two service types differ only in how the AuthnRequest
travels (``saml_redirect``, ``saml_post``); the Response always comes by HTTP-POST.
``AssertionChecks`` (the certificate, issuer, NameID format and leeway) serves SAML-WRAP too.
"""
from __future__ import annotations

import base64
import hashlib
import tempfile
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from cryptography import x509
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml, samlp
from saml2.s_utils import deflate_and_base64_encode
from saml2.sigver import CryptoBackend

from plumbing.xmldsig import BindingBackend

from ..config import AuthService
from . import saml_response
from .capabilities import ConnectorError, Identity, SamlLogin, SamlRequest

EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
#: the leeway on NotBefore/NotOnOrAfter unless the service says otherwise (seconds)
DEFAULT_SKEW = 30
_URL = {"type": "string", "pattern": "^https?://"}

#: the options of every connector that believes an IdP's signed assertions
ASSERTION_OPTIONS = {
    "idpCertificate": {"type": "string", "minLength": 1,
                       "description": "the IdP's signing certificate: PEM, or Base64 DER"},
    "idpEntityId": {"type": "string", "minLength": 1},
    "nameIdFormat": {"type": "string", "pattern": "^urn:"},
    "clockSkew": {"type": "integer", "minimum": 0, "maximum": 300},
}

PROVIDER_SCHEMA = {
    "type": "object",
    "required": ["remoteService", "options"],
    "properties": {
        "remoteService": {**_URL, "description": "the IdP's single sign-on URL"},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "required": ["idpCertificate"],
            "properties": {**ASSERTION_OPTIONS, "logoutUri": _URL},
        },
    },
}

_SHARED_BACKEND = BindingBackend()  # one key cache for every SAML service of the MIC


def _pem(certificate: str) -> str:
    """PEM, as xmlsec reads it, from PEM or the Base64 of the DER (as metadata's X509Certificate
    carries it), whatever their line breaks: a PEM pasted into one line of a console field too."""
    body = certificate.replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", "")
    body = "".join(body.split())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def request_id(relay_state: str) -> str:
    """The AuthnRequest ID of the login known by ``relay_state`` (an xs:ID: not a digit first)."""
    return "_" + hashlib.sha256(relay_state.encode()).hexdigest()[:40]


class AssertionChecks:
    """What a connector needs to believe an IdP's assertions: the IdP's entity id and signing
    certificate, the NameID format and the leeway on validity windows (its ``ASSERTION_OPTIONS``)."""

    def __init__(self, service: AuthService, crypto: CryptoBackend | None = None) -> None:
        options = service.provider.options
        self.idp_entity_id = options.get("idpEntityId", service.provider.remote_service)
        self.name_id_format = options.get("nameIdFormat", EMAIL)
        self.skew = options.get("clockSkew", DEFAULT_SKEW)
        self.crypto = crypto or _SHARED_BACKEND
        # xmlsec reads certificates from files; this one lives as long as the connector
        self._cert = tempfile.NamedTemporaryFile("w", suffix=".pem", prefix="mic-idp-cert-")
        self._cert.write(_pem(options["idpCertificate"]))
        self._cert.flush()
        try:
            x509.load_pem_x509_certificate(_pem(options["idpCertificate"]).encode())
            self._cert_problem = None
        except ValueError:  # the other services still serve; this one says why it cannot
            self._cert_problem = "this SAML service's idpCertificate is not an X.509 certificate"

    def expected(self, audience: str, now: float) -> saml_response.Expected:
        """What an assertion for ``audience`` must say at ``now`` (raises if the certificate is unusable)."""
        if self._cert_problem:
            raise ConnectorError("server_error", self._cert_problem)
        return saml_response.Expected(idp_entity_id=self.idp_entity_id, sp_entity_id=audience,
                                      name_id_format=self.name_id_format, now=now, skew=self.skew,
                                      verify=self._verify)

    def _verify(self, xml: bytes, node_name: str, node_id: str) -> None:
        if not self.crypto.validate_signature(xml, self._cert.name, "pem", node_name, node_id):
            raise ConnectorError("access_denied", "signature does not verify")


class SamlConnector(AssertionChecks, SamlLogin):
    binding: str

    def __init__(self, service: AuthService, binding: str, crypto: CryptoBackend | None = None) -> None:
        super().__init__(service, crypto)
        self.binding = binding
        self.sso_url = service.provider.remote_service

    def authn_request(self, sp_entity_id: str, acs_url: str, relay_state: str, now: float) -> SamlRequest:
        request = samlp.AuthnRequest(
            id=request_id(relay_state), version="2.0", destination=self.sso_url,
            issue_instant=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            assertion_consumer_service_url=acs_url, protocol_binding=BINDING_HTTP_POST,
            issuer=saml.Issuer(text=sp_entity_id, format=saml.NAMEID_FORMAT_ENTITY),
            name_id_policy=samlp.NameIDPolicy(format=self.name_id_format, allow_create="true"))
        if self.binding == BINDING_HTTP_REDIRECT:
            query = urlencode({"SAMLRequest": deflate_and_base64_encode(str(request)).decode(),
                               "RelayState": relay_state})
            return SamlRequest(f"{self.sso_url}{'&' if '?' in self.sso_url else '?'}{query}")
        return SamlRequest(self.sso_url, {"SAMLRequest": base64.b64encode(str(request).encode()).decode(),
                                          "RelayState": relay_state})

    def complete_post(self, form: Mapping[str, str], sp_entity_id: str, acs_url: str, relay_state: str,
                      now: float, first_use: Callable[[str, float], bool]) -> Identity:
        expected = self.expected(sp_entity_id, now)
        if not form.get("SAMLResponse"):
            raise ConnectorError("access_denied", "the identity provider posted no SAMLResponse")
        assertion = saml_response.read(form["SAMLResponse"], saml_response.ExpectedResponse(
            **vars(expected), acs_url=acs_url, request_id=request_id(relay_state)))
        saml_response.take_once(assertion, expected, first_use)
        token: dict[str, Any] = {"access_token": assertion.xml, "token_type": "saml2-assertion"}
        return Identity(user_id=assertion.name_id, attributes=assertion.attributes, upstream_token=token)


__all__ = ["PROVIDER_SCHEMA", "SamlConnector", "BINDING_HTTP_POST", "BINDING_HTTP_REDIRECT"]
