"""The IdP's state and what it does with a login: which Response (or WRAP token) to send, signed by whom.

Its signing key is generated at startup (or handed in by whoever starts it, who then
knows the certificate to configure an SP with); a second key, for the ``other-key``
tamper, likewise. pysaml2's security context signs with the python ``xmlsec``
binding by default, or the ``xmlsec1`` binary when ``crypto: xmlsec1``.
"""
from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass, field

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, config as saml_config
from saml2.metadata import entity_descriptor
from saml2.saml import (NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT,
                        NAMEID_FORMAT_UNSPECIFIED)
from saml2.sigver import CryptoBackendXmlSec1, SecurityContext, get_xmlsec_binary
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from plumbing.clock import Clock
from plumbing.xmldsig import BindingBackend, SigningIdentity, generate_identity

from . import responses, tampering
from .fixture import Fixture, ServiceProvider, User
from .sessions import PendingSso, Sessions

NAME_ID_FORMATS = (NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT,
                   NAMEID_FORMAT_UNSPECIFIED)
SSO_REDIRECT, SSO_POST, SLO = "/saml/sso/redirect", "/saml/sso/post", "/saml/slo"
METADATA = "/saml/metadata"


def security_context(crypto: str, signer: SigningIdentity) -> SecurityContext:
    backend = CryptoBackendXmlSec1(get_xmlsec_binary()) if crypto == "xmlsec1" else BindingBackend()
    return SecurityContext(backend, key_file=signer.key_file, cert_file=signer.cert_file)


@dataclass
class Idp:
    fixture: Fixture
    clock: Clock
    signer: SigningIdentity
    other_signer: SigningIdentity
    security: SecurityContext
    sessions: Sessions
    tampers: tampering.TamperBook = field(default_factory=tampering.TamperBook)
    _last_assertion_id: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workdir: object = None  # keeps generated keys alive as long as the IdP

    @classmethod
    def build(cls, fixture: Fixture, clock: Clock, signer: SigningIdentity | None, crypto: str) -> "Idp":
        workdir = tempfile.TemporaryDirectory(prefix="mock-saml-idp-")
        signer = signer or generate_identity(workdir.name, "idp", "mock SAML IdP")
        other = generate_identity(workdir.name, "other", "not the IdP")
        return cls(fixture, clock, signer, other, security_context(crypto, signer), Sessions(fixture, clock),
                   _workdir=workdir)

    def entity_id(self, base: str) -> str:
        return base + METADATA

    def metadata(self, base: str) -> str:
        config = saml_config.IdPConfig().load({
            "entityid": self.entity_id(base),
            "key_file": self.signer.key_file, "cert_file": self.signer.cert_file,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(base + SSO_REDIRECT, BINDING_HTTP_REDIRECT),
                                                         (base + SSO_POST, BINDING_HTTP_POST)],
                              "single_logout_service": [(base + SLO, BINDING_HTTP_REDIRECT)]},
                "name_id_format": list(NAME_ID_FORMATS),
                # inside service.idp, or pysaml2 silently signs with SHA-1
                "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256,
                "want_authn_requests_signed": False}}})
        return str(entity_descriptor(config))

    def name_id(self, user: User, name_id_format: str, sp_entity_id: str) -> str:
        if name_id_format == NAMEID_FORMAT_PERSISTENT:
            return hashlib.sha256(f"{user.id} {sp_entity_id}".encode()).hexdigest()[:32]  # stable per user and SP
        if name_id_format == NAMEID_FORMAT_TRANSIENT:
            return responses.new_id()
        if name_id_format == NAMEID_FORMAT_UNSPECIFIED:
            return user.username
        return user.email

    def respond(self, base: str, pending: PendingSso, user: User, mfa: bool) -> tuple[str, str | None]:
        """The Response for a finished login (with whatever tamper is armed) and the RelayState to send."""
        draft = self._draft(base, user, pending.sp, pending.name_id_format, self.fixture.assertion_ttl, mfa=mfa,
                            destination=pending.acs, in_response_to=pending.request_id)
        return self._issue(draft, pending.relay_state, bare=False)

    def wrap_token(self, base: str, sp: ServiceProvider, user: User) -> tuple[str, int]:
        """A WRAP access token for ``sp`` (the scope): a signed bare assertion, whatever tamper
        is armed that applies to one, and its lifetime in seconds."""
        draft = self._draft(base, user, sp, NAME_ID_FORMATS[0], self.fixture.wrap_token_ttl, mfa=False)
        token, _ = self._issue(draft, None, bare=True)
        return token, self.fixture.wrap_token_ttl

    def _draft(self, base: str, user: User, sp: ServiceProvider, name_id_format: str, ttl: int, *, mfa: bool,
               destination: str | None = None, in_response_to: str | None = None) -> responses.Draft:
        """What an assertion for ``user`` says to ``sp``, valid for ``ttl`` seconds from now; sent to an
        assertion consumer (``destination``), or bare (a WRAP token: no Recipient, no request)."""
        now = self.clock.now()
        return responses.Draft(
            issuer=self.entity_id(base), destination=destination, recipient=destination, audience=sp.entity_id,
            in_response_to=in_response_to, name_id=self.name_id(user, name_id_format, sp.entity_id),
            name_id_format=name_id_format, attributes=dict(user.attributes), issue_instant=now,
            not_before=now, not_on_or_after=now + ttl, signer=self.signer,
            # the fixture's choice is for Responses; a bare assertion is always signed
            sign_assertion=destination is None or self.fixture.sign in ("assertion", "both"),
            sign_response=self.fixture.sign in ("response", "both"),
            authn_context=responses.MFA_CONTEXT if mfa else responses.PASSWORD_CONTEXT)

    def _issue(self, draft: responses.Draft, relay_state: str | None, *, bare: bool) -> tuple[str, str | None]:
        """The draft signed as a Response or a ``bare`` assertion, spoilt by the armed mutation if
        there is one, and the RelayState."""
        mutation = self.tampers.take()
        tampering.check_applies(mutation, bare=bare)
        with self._lock:
            sending = tampering.Sending(draft, self.other_signer, self._last_assertion_id, relay_state)
            if mutation in tampering.BEFORE_SIGNING:
                tampering.BEFORE_SIGNING[mutation](sending)
            self._last_assertion_id = draft.assertion_id
        xml = (responses.sign_assertion if bare else responses.sign)(draft, self.security)
        if mutation is not None:
            xml = tampering.edit_signed(xml, mutation)
        return xml, sending.relay_state
