"""The IdP's SAML Responses (and bare assertions, WRAP's tokens): drafted from a login,
then signed with RSA-SHA256.

Every instant comes from the injected clock (pysaml2's own response factory reads the
system time, so the Response is put together here from pysaml2's SAML classes).
A ``Draft`` is what tampering edits before signing; ``sign`` (a Response) and
``sign_assertion`` (the assertion alone) hand it to pysaml2's security context, whose
crypto backend does the XML signature.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from saml2 import saml, samlp
from saml2.saml import NAME_FORMAT_BASIC, SCM_BEARER
from saml2.sigver import SecurityContext, pre_signature_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from plumbing.xmldsig import SigningIdentity

PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MFA_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken"
ASSERTION_NODE = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
RESPONSE_NODE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"


def new_id() -> str:
    """An xs:ID: must not start with a digit."""
    return "_" + secrets.token_hex(16)


def instant(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@dataclass
class Draft:
    """What one Response will say, and how it is signed."""

    issuer: str
    destination: str | None  # Response/@Destination: the SP's assertion consumer (no Response: None)
    recipient: str | None  # SubjectConfirmationData/@Recipient: the same, unless tampered (None: not said)
    audience: str  # the SP's entity id
    in_response_to: str | None  # the AuthnRequest's ID; None when unsolicited
    name_id: str
    name_id_format: str
    attributes: dict[str, list[str]]
    issue_instant: float
    not_before: float
    not_on_or_after: float
    signer: SigningIdentity
    sign_assertion: bool = True
    sign_response: bool = False
    authn_context: str = PASSWORD_CONTEXT
    response_id: str = field(default_factory=new_id)
    assertion_id: str = field(default_factory=new_id)
    session_index: str = field(default_factory=new_id)


def _assertion(draft: Draft) -> saml.Assertion:
    confirmation = saml.SubjectConfirmationData(
        recipient=draft.recipient, not_on_or_after=instant(draft.not_on_or_after),
        in_response_to=draft.in_response_to)
    attributes = [saml.Attribute(name=name, name_format=NAME_FORMAT_BASIC,
                                 attribute_value=[saml.AttributeValue(text=value) for value in values])
                  for name, values in draft.attributes.items()]
    return saml.Assertion(
        id=draft.assertion_id, version="2.0", issue_instant=instant(draft.issue_instant),
        issuer=saml.Issuer(text=draft.issuer, format=saml.NAMEID_FORMAT_ENTITY),
        subject=saml.Subject(
            name_id=saml.NameID(text=draft.name_id, format=draft.name_id_format),
            subject_confirmation=[saml.SubjectConfirmation(method=SCM_BEARER,
                                                           subject_confirmation_data=confirmation)]),
        conditions=saml.Conditions(
            not_before=instant(draft.not_before), not_on_or_after=instant(draft.not_on_or_after),
            audience_restriction=[saml.AudienceRestriction(audience=[saml.Audience(text=draft.audience)])]),
        authn_statement=[saml.AuthnStatement(
            authn_instant=instant(draft.issue_instant), session_index=draft.session_index,
            authn_context=saml.AuthnContext(authn_context_class_ref=saml.AuthnContextClassRef(
                text=draft.authn_context)))],
        attribute_statement=[saml.AttributeStatement(attribute=attributes)] if attributes else [])


def _signature(ident: str, signer: SigningIdentity):
    return pre_signature_part(ident, signer.cert_base64, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)


def _signed_if_asked(draft: Draft) -> saml.Assertion:
    assertion = _assertion(draft)
    if draft.sign_assertion:
        assertion.signature = _signature(draft.assertion_id, draft.signer)
    return assertion


def sign(draft: Draft, security: SecurityContext) -> str:
    """The Response as XML, its assertion and/or itself signed (RSA-SHA256, SHA-256 digests)."""
    response = samlp.Response(
        id=draft.response_id, version="2.0", issue_instant=instant(draft.issue_instant),
        destination=draft.destination, in_response_to=draft.in_response_to,
        issuer=saml.Issuer(text=draft.issuer, format=saml.NAMEID_FORMAT_ENTITY),
        status=samlp.Status(status_code=samlp.StatusCode(value=samlp.STATUS_SUCCESS)),
        assertion=[_signed_if_asked(draft)])
    if draft.sign_response:
        response.signature = _signature(draft.response_id, draft.signer)
    xml = str(response)
    if draft.sign_assertion:
        xml = security.sign_statement(xml, ASSERTION_NODE, key_file=draft.signer.key_file,
                                      node_id=draft.assertion_id)
    if draft.sign_response:
        xml = security.sign_statement(xml, RESPONSE_NODE, key_file=draft.signer.key_file,
                                      node_id=draft.response_id)
    return xml


def sign_assertion(draft: Draft, security: SecurityContext) -> str:
    """The assertion alone, as XML (a WRAP access token), signed unless the draft says not."""
    xml = str(_signed_if_asked(draft))
    if draft.sign_assertion:
        xml = security.sign_statement(xml, ASSERTION_NODE, key_file=draft.signer.key_file,
                                      node_id=draft.assertion_id)
    return xml
