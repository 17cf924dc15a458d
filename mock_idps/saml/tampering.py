"""What the IdP's control surface can do to the next Response (or WRAP token) it sends.

A mutation is armed by name (``POST /_control/tamper {"mutation": …, "times": n}``)
and applies to the next ``times`` Responses or WRAP tokens (default one). Three kinds:

- before signing, an edit of the ``Draft`` (a validly signed lie: expired conditions,
  a wrong audience, recipient, destination, issuer or InResponseTo, a replayed
  assertion ID, no signature at all, or a signature by another key);
- after signing, an edit of the signed XML that keeps the signature valid (the classic
  signature-wrapping variants, a comment in the NameID) or makes the document
  dangerous to parse (a DOCTYPE with an external entity, or a billion laughs);
- ``unsolicited``: no InResponseTo and no RelayState, as an IdP-initiated login.

A WRAP token is a bare assertion: it has no Response, answers no request and is no
assertion consumer's, so only ``ASSERTION_MUTATIONS`` apply to it.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Callable

from lxml import etree

from plumbing.xmldsig import DSIG_NS, SigningIdentity, parse

from .responses import Draft, new_id

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
ATTACKER = "https://attacker.invalid"
#: whom the wrapped, unsigned assertion names instead of the user who logged in
IMPOSTOR = "admin@example.com"


@dataclass
class Sending:
    """One Response on its way: the draft, the other key for ``other-key``, the last assertion ID sent."""

    draft: Draft
    other_signer: SigningIdentity
    last_assertion_id: str | None
    relay_state: str | None


def _expired(s: Sending) -> None:
    s.draft.not_before, s.draft.not_on_or_after = s.draft.issue_instant - 600, s.draft.issue_instant - 300


def _not_yet_valid(s: Sending) -> None:
    s.draft.not_before = s.draft.issue_instant + 600
    s.draft.not_on_or_after = s.draft.issue_instant + 900


def _set(attribute: str, value: Callable[[Sending], object]) -> Callable[[Sending], None]:
    return lambda s: setattr(s.draft, attribute, value(s))


def _replay(s: Sending) -> None:
    if s.last_assertion_id is None:
        raise TamperError("replay needs an earlier Response to replay the assertion of")
    s.draft.assertion_id = s.last_assertion_id


def _unsigned(s: Sending) -> None:
    s.draft.sign_assertion = s.draft.sign_response = False


def _unsolicited(s: Sending) -> None:
    s.draft.in_response_to = None
    s.relay_state = None


BEFORE_SIGNING: dict[str, Callable[[Sending], None]] = {
    "expired": _expired,
    "not-yet-valid": _not_yet_valid,
    "wrong-audience": _set("audience", lambda s: f"{ATTACKER}/sp"),
    "wrong-recipient": _set("recipient", lambda s: f"{ATTACKER}/acs"),
    "wrong-destination": _set("destination", lambda s: f"{ATTACKER}/acs"),
    "wrong-issuer": _set("issuer", lambda s: f"{ATTACKER}/idp"),
    "missing-in-response-to": _set("in_response_to", lambda s: None),
    "wrong-in-response-to": _set("in_response_to", lambda s: new_id()),
    "replay": _replay,
    "unsigned": _unsigned,
    "other-key": _set("signer", lambda s: s.other_signer),
    "unsolicited": _unsolicited,
}


# -- after signing: the signed XML, edited --------------------------------------------

def _q(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def _signed_assertion(root: etree._Element) -> etree._Element:
    assertion = root if root.tag == _q(SAML_NS, "Assertion") else root.find(_q(SAML_NS, "Assertion"))
    if assertion is None or assertion.find(_q(DSIG_NS, "Signature")) is None:
        raise TamperError("signature wrapping needs a signed assertion (fixture sign: assertion or both)")
    return assertion


def _impostor(signed: etree._Element, keep_signature: bool = False) -> etree._Element:
    """An unsigned copy of the assertion, with its own ID, naming someone else."""
    evil = copy.deepcopy(signed)
    evil.set("ID", new_id())
    if not keep_signature:
        evil.remove(evil.find(_q(DSIG_NS, "Signature")))
    evil.find(f"{_q(SAML_NS, 'Subject')}/{_q(SAML_NS, 'NameID')}").text = IMPOSTOR
    return evil


def _xsw_before(root: etree._Element) -> etree._Element:
    signed = _signed_assertion(root)
    signed.addprevious(_impostor(signed))
    return root


def _xsw_after(root: etree._Element) -> etree._Element:
    signed = _signed_assertion(root)
    signed.addnext(_impostor(signed))
    return root


def _xsw_extensions(root: etree._Element) -> etree._Element:
    """The signed assertion hidden in samlp:Extensions, an unsigned impostor in its place."""
    signed = _signed_assertion(root)
    signed.addprevious(_impostor(signed))
    extensions = etree.Element(_q(SAMLP_NS, "Extensions"))
    root.find(_q(SAML_NS, "Issuer")).addnext(extensions)
    extensions.append(signed)  # moves it
    return root


def _xsw_object(root: etree._Element) -> etree._Element:
    """The impostor carries a copy of the genuine signature, whose ds:Object holds the signed
    assertion; a bare assertion's impostor becomes the document."""
    signed = _signed_assertion(root)
    evil = _impostor(signed, keep_signature=True)
    if signed is not root:
        signed.addprevious(evil)
    holder = etree.SubElement(evil.find(_q(DSIG_NS, "Signature")), _q(DSIG_NS, "Object"))
    holder.append(signed)  # moves it
    return root if signed is not root else evil


def _nameid_comment(root: etree._Element) -> etree._Element:
    """A comment inside the NameID: exclusive c14n drops it, so the signature still holds,
    and a parser that reads only the first text node sees a shorter name."""
    name_id = _signed_assertion(root).find(f"{_q(SAML_NS, 'Subject')}/{_q(SAML_NS, 'NameID')}")
    value = name_id.text or ""
    cut = value.index("@") if "@" in value else len(value) // 2
    name_id.text = value[:cut]
    comment = etree.Comment("")
    comment.tail = value[cut:]
    name_id.append(comment)
    return root


#: each edits the signed document and returns its root (a new one for a wrapped bare assertion)
XML_EDITS: dict[str, Callable[[etree._Element], etree._Element]] = {
    "xsw-assertion-before": _xsw_before,
    "xsw-assertion-after": _xsw_after,
    "xsw-extensions": _xsw_extensions,
    "xsw-object": _xsw_object,
    "nameid-comment": _nameid_comment,
}

XXE = '<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
LAUGHS = "<!DOCTYPE {root} [<!ENTITY lol0 \"lol\">" + "".join(
    f"<!ENTITY lol{i} \"{('&lol%d;' % (i - 1)) * 10}\">" for i in range(1, 10)) + "]>"

#: a document type declaration put before the root (named in it), and the entity the NameID then refers to
DOCTYPES: dict[str, tuple[str, str]] = {
    "doctype-xxe": (XXE, "&xxe;"),
    "billion-laughs": (LAUGHS, "&lol9;"),
}

MUTATIONS = sorted([*BEFORE_SIGNING, *XML_EDITS, *DOCTYPES])
#: what needs a Response around the assertion, the request it answers, or an assertion consumer
_RESPONSE_ONLY = {"wrong-destination", "wrong-recipient", "missing-in-response-to", "wrong-in-response-to",
                  "unsolicited", "xsw-assertion-before", "xsw-assertion-after", "xsw-extensions"}
#: the mutations that make sense for a bare assertion (a WRAP token)
ASSERTION_MUTATIONS = sorted(set(MUTATIONS) - _RESPONSE_ONLY)


class TamperError(ValueError):
    """A mutation that cannot apply (unknown, or to this IdP's configuration)."""


def check_applies(mutation: str | None, *, bare: bool) -> None:
    if bare and mutation in _RESPONSE_ONLY:
        raise TamperError(f"{mutation} needs a SAML Response; a WRAP token is a bare assertion "
                          f"(those take {', '.join(ASSERTION_MUTATIONS)})")


def edit_signed(xml: str, mutation: str) -> str:
    """The signed Response or assertion with an after-signing mutation applied (or unchanged for the others)."""
    if mutation in XML_EDITS:
        root = XML_EDITS[mutation](parse(xml))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()
    if mutation in DOCTYPES:
        doctype, reference = DOCTYPES[mutation]
        root = parse(xml)
        name_id = root.find(f".//{_q(SAML_NS, 'NameID')}")
        marker = new_id()
        name_id.text = marker
        body = etree.tostring(root, encoding="unicode")
        declaration = doctype.format(root=f"{root.prefix}:{etree.QName(root).localname}" if root.prefix
                                     else etree.QName(root).localname)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{declaration}\n' + body.replace(marker, reference)
    return xml


class TamperBook:
    """The mutations armed on this IdP, each for a number of Responses."""

    def __init__(self) -> None:
        self._armed: list[list] = []  # [mutation, remaining]
        self._lock = threading.Lock()

    def arm(self, spec: dict) -> dict:
        unknown = set(spec) - {"mutation", "times"}
        mutation, times = spec.get("mutation"), spec.get("times", 1)
        if unknown or mutation not in MUTATIONS:
            raise TamperError(f"expected {{\"mutation\": one of {', '.join(MUTATIONS)}, \"times\": n}}")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise TamperError("times takes a whole number from 1 up")
        with self._lock:
            self._armed.append([mutation, times])
        return {"mutation": mutation, "times": times}

    def take(self) -> str | None:
        """The mutation the next Response gets, if one is armed (it counts as used)."""
        with self._lock:
            if not self._armed:
                return None
            entry = self._armed[0]
            entry[1] -= 1
            if entry[1] == 0:
                self._armed.pop(0)
            return entry[0]

    def armed(self) -> list[dict]:
        with self._lock:
            return [{"mutation": m, "times": t} for m, t in self._armed]

    def clear(self) -> int:
        with self._lock:
            count, self._armed = len(self._armed), []
            return count
