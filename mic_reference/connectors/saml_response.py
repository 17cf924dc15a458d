"""What the MIC checks in a SAML Response, or in a bare assertion, before it believes a word of it.

In the order an attacker's document meets them: no DTD or entity (refused before the
parser sees the bytes); well-formed; a Response with status Success; every signature
enveloped by the element it references, and no ID used twice (signature wrapping);
exactly one assertion, a child of the Response, and it is the one that is signed (or
the Response around it is), with the configured certificate; then Issuer (on a signed
Response too), Destination (where said; a signed Response must), InResponseTo,
Recipient, an AuthnStatement, the validity window against the clock (Conditions'
NotOnOrAfter where said, the bearer confirmation's always, and no NotBefore on it), the
Audience, a NameID of one plain text node in the configured format, and an assertion ID never seen
before. Each refusal says which rule (SAML 2.0 Core and Profiles, 4.1.4.3 and 4.1.4.2).

A bare assertion (what OAuth WRAP hands out as its access token, ``read_assertion``)
meets the same rules where they apply: it is the document's root and is itself signed;
there is no Response, no request it answers and no assertion consumer to check.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from lxml import etree

from plumbing.xmldsig import DSIG_NS, parse

from .capabilities import ConnectorError

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
ASSERTION_NODE = f"{SAML}:Assertion"
RESPONSE_NODE = f"{SAMLP}:Response"

_EXTERNAL_ENTITY = re.compile(rb"<!ENTITY[^>]*\b(SYSTEM|PUBLIC)\b")


def _q(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def refuse(description: str, debug: str = "") -> ConnectorError:
    return ConnectorError("access_denied", description, debug=debug)


@dataclass(frozen=True)
class Expected:
    """What an assertion must say, and how to check its signatures."""

    idp_entity_id: str
    sp_entity_id: str  # the audience
    name_id_format: str
    now: float
    skew: int
    #: ``verify(xml, node_name, node_id)`` raises when the signature does not hold
    verify: Callable[[bytes, str, str], None]


@dataclass(frozen=True)
class ExpectedResponse(Expected):
    """What this Web SSO login's Response must say besides: where it was sent, and in reply to what."""

    acs_url: str
    request_id: str


@dataclass(frozen=True)
class Assertion:
    id: str
    name_id: str
    attributes: dict[str, Any]
    xml: str  # the assertion as it came: what data links may pass on
    not_on_or_after: float


def read(encoded: str, expected: ExpectedResponse) -> Assertion:
    """The one assertion of a posted ``SAMLResponse``, every rule checked, or raise ConnectorError."""
    raw = _decoded(encoded)
    _refuse_declarations(raw, "the SAML response")
    root = _parsed(raw, "the SAML response")
    if root.tag != _q(SAMLP, "Response"):
        raise refuse("the SAML message is not a Response")
    status = root.find(f"{_q(SAMLP, 'Status')}/{_q(SAMLP, 'StatusCode')}")
    if status is None or status.get("Value") != SUCCESS:
        raise refuse("the identity provider did not log the user in",
                     debug=f"SAML status {None if status is None else status.get('Value')}")
    _check_signature_placement(root)
    assertion = _the_signed_assertion(root, raw, expected)
    signed = root.find(_q(DSIG_NS, "Signature")) is not None
    # optional on the Response (Core 3.2.2), unless it is signed (Profiles 4.1.4.2)
    _check_issuer(root, "response", expected, optional=not signed)
    _check_issuer(assertion, "assertion", expected)
    _check_addressing(root, assertion, expected, signed)
    if assertion.find(_q(SAML, "AuthnStatement")) is None:
        raise refuse("the assertion has no AuthnStatement: it does not say the user signed in "
                     "(SAML 2.0 Profiles 4.1.4.2)")
    return _believed(assertion, expected)


def read_assertion(raw: bytes, expected: Expected, what: str = "the token") -> Assertion:
    """A bare, signed assertion (``what`` names it in refusals), every rule that applies checked,
    or raise ConnectorError."""
    _refuse_declarations(raw, what)
    root = _parsed(raw, what)
    if root.tag != _q(SAML, "Assertion"):
        raise refuse(f"{what} is not a SAML assertion", debug=f"root element {etree.QName(root).localname}")
    _check_signature_placement(root)
    assertions = list(root.iter(_q(SAML, "Assertion")))
    if len(assertions) != 1:
        raise refuse(f"{what} carries {len(assertions)} assertions; MIC takes exactly one")
    if root.find(_q(DSIG_NS, "Signature")) is None:
        raise refuse("the assertion is not signed")
    _verify(expected, raw, ASSERTION_NODE, root.get("ID"), "the assertion's")
    _check_issuer(root, "assertion", expected)
    return _believed(root, expected)


def take_once(assertion: Assertion, expected: Expected, first_use: Callable[[str, float], bool]) -> None:
    """Each assertion of an IdP is believed once while it is valid (``first_use``: the MIC's memory)."""
    if not first_use(f"saml-assertion:{expected.idp_entity_id}:{assertion.id}",
                     assertion.not_on_or_after + expected.skew):
        raise refuse("this assertion was already used (replay)", debug=f"assertion {assertion.id}")


def _believed(assertion: etree._Element, expected: Expected) -> Assertion:
    """What a checked assertion says, after its conditions and subject are checked too."""
    not_on_or_after = _check_conditions(assertion, expected)
    name_id = _name_id(assertion, expected)
    return Assertion(id=assertion.get("ID"), name_id=name_id, attributes=_attributes(assertion),
                     xml=etree.tostring(assertion, encoding="unicode"), not_on_or_after=not_on_or_after)


def _decoded(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise refuse("the SAMLResponse is not Base64") from None


def _refuse_declarations(raw: bytes, what: str) -> None:
    """Refused before any parser sees the bytes (SAML 2.0 Core 1.3: no DTDs in SAML messages)."""
    if _EXTERNAL_ENTITY.search(raw):
        raise refuse(f"{what} declares an external entity (XXE): refused before parsing")
    if b"<!ENTITY" in raw:
        raise refuse(f"{what} declares entities (entity expansion, e.g. a billion laughs): refused before parsing")
    if b"<!DOCTYPE" in raw:
        raise refuse(f"{what} carries a DTD: refused before parsing")


def _parsed(raw: bytes, what: str) -> etree._Element:
    try:
        root = parse(raw)
    except etree.XMLSyntaxError as exc:
        raise refuse(f"{what} is not well-formed XML", debug=str(exc)) from None
    if root.getroottree().docinfo.doctype:  # a DTD in an encoding the byte check could not read
        raise refuse(f"{what} carries a DTD: refused")
    return root


def _check_signature_placement(root: etree._Element) -> None:
    """Each signature must sign the element that encloses it, by an ID no other element has."""
    seen: dict[str, int] = {}
    for element in root.iter(etree.Element):
        if element.get("ID") is not None:
            seen[element.get("ID")] = seen.get(element.get("ID"), 0) + 1
    twice = sorted(i for i, n in seen.items() if n > 1)
    if twice:
        raise refuse(f"two elements share the ID {twice[0]} (signature wrapping)")
    for signature in root.iter(_q(DSIG_NS, "Signature")):
        references = signature.findall(f"{_q(DSIG_NS, 'SignedInfo')}/{_q(DSIG_NS, 'Reference')}")
        parent = signature.getparent()
        if len(references) != 1 or references[0].get("URI") != f"#{parent.get('ID')}" \
                or parent.tag not in (_q(SAML, "Assertion"), _q(SAMLP, "Response")):
            raise refuse("a signature does not sign the assertion or response that encloses it (signature wrapping)")


def _the_signed_assertion(root: etree._Element, raw: bytes, expected: Expected) -> etree._Element:
    if root.find(f".//{_q(SAML, 'EncryptedAssertion')}") is not None:
        raise refuse("the SAML response carries an encrypted assertion, which this MIC does not take")
    assertions = list(root.iter(_q(SAML, "Assertion")))
    signed = [a for a in assertions if a.find(_q(DSIG_NS, "Signature")) is not None]
    response_signed = root.find(_q(DSIG_NS, "Signature")) is not None
    if not signed and not response_signed:
        raise refuse("neither the SAML response nor its assertion is signed")
    if len(assertions) != 1:
        raise refuse(_wrapping(root, assertions, signed), debug=f"{len(assertions)} assertions")
    assertion = assertions[0]
    if assertion.getparent() is not root:
        raise refuse("the assertion is not a child of the Response (signature wrapping)")
    if response_signed:
        _verify(expected, raw, RESPONSE_NODE, root.get("ID"), "the response's")
    if signed:
        _verify(expected, raw, ASSERTION_NODE, assertion.get("ID"), "the assertion's")
    return assertion


def _wrapping(root: etree._Element, assertions: list, signed: list) -> str:
    """Which signature-wrapping shape a document with several assertions has."""
    if len(signed) == 1 and signed[0].getparent() is not root:
        return (f"the signed assertion is not a child of the Response but of "
                f"{etree.QName(signed[0].getparent()).localname} (signature wrapping)")
    if len(signed) == 1:
        unsigned = [a for a in assertions if a is not signed[0]]
        position = "precedes" if root.index(unsigned[0]) < root.index(signed[0]) else "follows"
        return f"an unsigned assertion {position} the signed one (signature wrapping)"
    return f"the SAML response carries {len(assertions)} assertions; MIC takes exactly one"


def _verify(expected: Expected, raw: bytes, node_name: str, node_id: str, whose: str) -> None:
    try:
        expected.verify(raw, node_name, node_id)
    except Exception as exc:  # the crypto backend's refusal, whatever its kind
        raise refuse(f"{whose} signature does not verify with the configured IdP certificate",
                     debug=type(exc).__name__) from None


def _check_issuer(element: etree._Element, whose: str, expected: Expected, optional: bool = False) -> None:
    issuer = element.find(_q(SAML, "Issuer"))
    if issuer is None and optional:
        return
    if issuer is None or (issuer.text or "").strip() != expected.idp_entity_id:
        raise refuse(f"the {whose}'s issuer is not the configured identity provider",
                     debug=f"issuer {None if issuer is None else issuer.text!r}")


def _bearer_confirmation(assertion: etree._Element) -> etree._Element:
    """The first bearer SubjectConfirmation's data (SAML 2.0 Profiles 3.3: one must be there)."""
    confirmations = [c for c in assertion.iterfind(f"{_q(SAML, 'Subject')}/{_q(SAML, 'SubjectConfirmation')}")
                     if c.get("Method") == BEARER]
    if not confirmations:
        raise refuse("the assertion has no bearer subject confirmation")
    data = confirmations[0].find(_q(SAML, "SubjectConfirmationData"))
    if data is None:
        raise refuse("the bearer subject confirmation has no SubjectConfirmationData (no NotOnOrAfter)")
    return data


def _check_addressing(root: etree._Element, assertion: etree._Element, expected: ExpectedResponse,
                      signed: bool) -> None:
    """Destination: where said, this MIC's assertion consumer; a signed Response must say it
    (Bindings 3.5.5.2), an unsigned one may not. Then InResponseTo and the bearer Recipient."""
    destination = root.get("Destination")
    if destination is None and signed:
        raise refuse("the signed response names no Destination (SAML 2.0 Bindings 3.5.5.2)")
    if destination is not None and destination != expected.acs_url:
        raise refuse("the response's Destination is not this MIC's assertion consumer",
                     debug=f"Destination {destination!r}")
    if root.get("InResponseTo") is None:
        raise refuse("the response answers no AuthnRequest of this MIC (no InResponseTo): "
                     "unsolicited, IdP-initiated responses are refused")
    if root.get("InResponseTo") != expected.request_id:
        raise refuse("the response's InResponseTo is not the AuthnRequest this login began with")
    data = _bearer_confirmation(assertion)
    if data.get("Recipient") != expected.acs_url:
        raise refuse("the subject confirmation's Recipient is not this MIC's assertion consumer")
    if data.get("InResponseTo") != expected.request_id:
        raise refuse("the subject confirmation's InResponseTo is not the AuthnRequest this login began with")


def _check_conditions(assertion: etree._Element, expected: Expected) -> float:
    conditions = assertion.find(_q(SAML, "Conditions"))
    if conditions is None:
        raise refuse("the assertion has no Conditions (validity window and audience)")
    not_before = conditions.get("NotBefore")
    if not_before is not None and _instant(not_before, "NotBefore") > expected.now + expected.skew:
        raise refuse("the assertion is not valid yet (NotBefore is ahead of the MIC's clock)")
    # optional on Conditions (Core 2.5.1); the bearer confirmation's NotOnOrAfter is not (Profiles 4.1.4.2)
    end = conditions.get("NotOnOrAfter")
    not_on_or_after = None if end is None else _instant(end, "NotOnOrAfter")
    if not_on_or_after is not None and not_on_or_after <= expected.now - expected.skew:
        raise refuse("the assertion has expired (NotOnOrAfter has passed on the MIC's clock)")
    restrictions = conditions.findall(_q(SAML, "AudienceRestriction"))
    if not restrictions or any(expected.sp_entity_id not in [(a.text or "").strip() for a in r]
                               for r in restrictions):
        raise refuse("the assertion's audience is not this MIC",
                     debug=f"expected audience {expected.sp_entity_id}")
    data = _bearer_confirmation(assertion)
    if data.get("NotBefore") is not None:
        raise refuse("the bearer subject confirmation has a NotBefore, which SAML 2.0 Profiles 4.1.4.2 forbids")
    confirmed_until = _instant(data.get("NotOnOrAfter"), "SubjectConfirmationData NotOnOrAfter")
    if confirmed_until <= expected.now - expected.skew:
        raise refuse("the subject confirmation has expired")
    return confirmed_until if not_on_or_after is None else not_on_or_after


def _name_id(assertion: etree._Element, expected: Expected) -> str:
    name_id = assertion.find(f"{_q(SAML, 'Subject')}/{_q(SAML, 'NameID')}")
    if name_id is None or not (name_id.text or "").strip():
        raise refuse("the assertion names no subject (NameID)")
    if len(name_id) or name_id.text != "".join(name_id.itertext()):
        raise refuse("the NameID contains an XML comment or markup (a truncated identity)")
    given = name_id.get("Format", UNSPECIFIED)
    if expected.name_id_format != UNSPECIFIED and given != expected.name_id_format:
        raise refuse("the NameID is not in the configured format", debug=f"Format {given}")
    return name_id.text.strip()


def _attributes(assertion: etree._Element) -> dict[str, Any]:
    """As the IdP sent them: one value as a string, several as a list."""
    found: dict[str, Any] = {}
    for attribute in assertion.iterfind(f"{_q(SAML, 'AttributeStatement')}/{_q(SAML, 'Attribute')}"):
        values = ["".join(v.itertext()) for v in attribute.iterfind(_q(SAML, "AttributeValue"))]
        found[attribute.get("Name")] = values[0] if len(values) == 1 else values
    return found


def _instant(value: str | None, name: str) -> float:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise refuse(f"the assertion's {name} is not an xs:dateTime in UTC")
    return moment.timestamp()
