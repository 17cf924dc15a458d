"""The directory's in-memory tree, seeded from an LDIF file (ldaptor's in-memory entries).

Group membership is kept where real directories keep it, in the groups' ``member``;
``memberOf`` on each member is derived once at load time (as Active Directory's back
links and OpenLDAP's memberof overlay present it; the flavour says whether a ``*``
search returns it).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ldaptor import inmemory
from ldaptor.protocols.ldap import distinguishedname, ldaperrors
from ldaptor.protocols.ldap.ldifprotocol import LDIFTruncatedError
from twisted.internet import defer


class FixtureError(ValueError):
    pass


def settled(deferred: defer.Deferred) -> Any:
    """The result of a Deferred that has already fired (the in-memory tree answers at once)."""
    outcome: list = []
    deferred.addBoth(outcome.append)
    if not outcome:
        raise RuntimeError("the in-memory tree did not answer synchronously")
    if isinstance(outcome[0], defer.Failure):
        outcome[0].raiseException()
    return outcome[0]


def load(path: str | Path) -> inmemory.ReadOnlyInMemoryLDAPEntry:
    """The tree an LDIF file describes, its first entry the root; a broken file names itself."""
    path = Path(path)
    try:
        # ldaptor's LDIF reader wants the last entry closed by a blank line
        root = settled(inmemory.fromLDIFFile(io.BytesIO(path.read_bytes() + b"\n")))
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc}") from None
    except (ldaperrors.LDAPException, LDIFTruncatedError, ValueError, AssertionError) as exc:
        raise FixtureError(f"{path}: not a usable LDIF tree: {exc}") from None
    if root is None:
        raise FixtureError(f"{path}: the LDIF file has no entries")
    _derive_member_of(root, path)
    return root


def entries(root: inmemory.ReadOnlyInMemoryLDAPEntry) -> list:
    return settled(root.subtree())


def lookup(root: inmemory.ReadOnlyInMemoryLDAPEntry, dn: str):
    """The entry at ``dn``, or None (also when ``dn`` is not a DN at all)."""
    try:
        return settled(root.lookup(distinguishedname.DistinguishedName(stringValue=dn)))
    except (ldaperrors.LDAPNoSuchObject, distinguishedname.InvalidRelativeDistinguishedName, ValueError):
        return None


def _derive_member_of(root, path: Path) -> None:
    for group in entries(root):
        for member in group.get("member", ()):
            target = lookup(root, member.decode() if isinstance(member, bytes) else member)
            if target is None:
                raise FixtureError(f"{path}: {group.dn.getText()} lists a member that is not in the tree: {member}")
            target["memberOf"] = [*target.get("memberOf", ()), group.dn.getText()]
