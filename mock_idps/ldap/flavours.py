"""Who may bind, and how a directory says no: plain LDAP (OpenLDAP-like) and Active Directory.

Both refuse what ldaptor's defaults let through: an anonymous bind, a DN with no
password (the unauthenticated bind of RFC 4513 5.1.2), a password with no DN, and any
search before a successful bind. Password values are plaintext or ``{SSHA}``. Account
states that depend on time (a lockout, an expired password) read the directory's clock,
so a test moves them like any TTL. Each flavour also says which attributes are
operational (returned only when named, or for ``+``: RFC 3673, RFC 4511 4.5.1.8).
"""
from __future__ import annotations

import base64
import hmac
import re
from datetime import datetime, timezone
from typing import Any

from ldaptor.entry import sshaDigest
from ldaptor.protocols.ldap import ldaperrors

from . import tree

#: attributes no search returns and no filter or compare may test
PASSWORD_ATTRIBUTES = frozenset({"userpassword", "unicodepwd"})
#: the password policy control's errors (draft-behera-ldap-password-policy 6.2)
PASSWORD_EXPIRED, ACCOUNT_LOCKED = 0, 1
#: a DN as RFC 4514 3 writes one, each value a non-empty string (a pair: an escaped special or hex)
_PAIR = r'\\(?:[\\"+,;<> #=]|[0-9A-Fa-f]{2})'
_VALUE = rf'(?:[^\x00 "#+,;<>\\]|{_PAIR})(?:(?:[^\x00"+,;<>\\]|{_PAIR})*(?:[^\x00 "+,;<>\\]|{_PAIR}))?'
_AVA = rf" *(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+) *= *{_VALUE} *"  # spaces around: as slapd allows
_DN = re.compile(rf"^{_AVA}(?:\+{_AVA})*(?:,{_AVA}(?:\+{_AVA})*)*$")
#: the root DSE's feature for ``+`` (RFC 3673)
ALL_OPERATIONAL_ATTRIBUTES = "1.3.6.1.4.1.4203.1.5.1"
#: Windows FILETIME: 100 ns ticks since 1601-01-01
_FILETIME_EPOCH_OFFSET = 11644473600
_NEVER = (0, 9223372036854775807)


def as_text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _first(entry, name: str, default: str | None = None) -> str | None:
    values = entry.get(name, ())
    return as_text(next(iter(values))) if values else default


def password_matches(entry, attribute: str, password: bytes) -> bool:
    for stored in entry.get(attribute, ()):
        stored = stored if isinstance(stored, bytes) else str(stored).encode()
        if stored.startswith(b"{SSHA}"):
            salt = base64.b64decode(stored[len(b"{SSHA}"):])[20:]
            candidate = sshaDigest(password, salt)
        else:
            candidate = password
        if hmac.compare_digest(stored, candidate):
            return True
    return False


class PolicyRefusal(ldaperrors.LDAPInvalidCredentials):
    """A refused bind of an entry the password policy covers; ``policy_error`` is the Behera
    draft's error (0 passwordExpired, 1 accountLocked), None for a wrong password."""

    def __init__(self, policy_error: int | None) -> None:
        super().__init__()
        self.policy_error = policy_error


class Flavour:
    """What both kinds of directory share; subclasses say how names resolve and how refusals read."""

    name = ""
    password_attribute = "userPassword"
    #: attributes (lower-cased) a search returns only when asked for by name or with ``+``
    operational: frozenset[str] = frozenset()
    #: whether the root DSE may be read on a connection nobody bound on
    root_dse_before_bind = True
    #: whether a bind that asks for the password policy control gets it back (OpenLDAP's ppolicy)
    password_policy_control = False

    def __init__(self, root) -> None:
        self.root = root

    def authenticate(self, name: str, password: bytes, now: float):
        """The entry a simple bind authenticates, or raise the LDAP error the directory answers."""
        if not name and not password:
            raise ldaperrors.LDAPInappropriateAuthentication("anonymous bind disallowed")
        if not password:
            raise ldaperrors.LDAPUnwillingToPerform("unauthenticated bind (DN with no password) disallowed")
        if not name:
            raise self.invalid_credentials("bad password")
        entry = self.find(name)
        if entry is None:
            raise self.invalid_credentials("no such user")
        self.check(entry, password, now)
        return entry

    def find(self, name: str):
        return tree.lookup(self.root, name)

    def check(self, entry, password: bytes, now: float) -> None:
        raise NotImplementedError

    def invalid_credentials(self, why: str) -> ldaperrors.LDAPException:
        return ldaperrors.LDAPInvalidCredentials()

    def authorization_id(self, entry) -> str:
        """Who a bound connection is, as "Who am I?" answers (RFC 4532: an RFC 4513 authzId)."""
        return f"dn:{entry.dn.getText()}"

    def no_such_object(self, dn: str, matched: str) -> str:
        """The diagnostic text of a search whose base is not there."""
        return dn

    def search_refused(self) -> ldaperrors.LDAPException:
        """A search on a connection nobody bound on."""
        return ldaperrors.LDAPInappropriateAuthentication("authentication required")

    def root_dse(self) -> list[tuple[str, list[str]]]:
        return []


class PlainLdap(Flavour):
    """OpenLDAP 2.5 as ``slapd.conf`` sets it up with ``disallow bind_anon``, ``require authc`` and the
    ppolicy and memberof overlays (tests/peers/slapd holds that configuration, and tests hold the two
    to the same answers). A locked account (``pwdAccountLockedTime``, for the policy's
    ``pwdLockoutDuration``; ``000001010000Z`` or a duration of 0: until an administrator acts) and
    an expired password (``pwdChangedTime`` older than the policy's ``pwdMaxAge``) get the same bare
    49 as a wrong password; the password policy control, when asked for, says which. The policy is
    the entry's ``pwdPolicySubentry``, else the default one (``ppolicy_default``),
    ``cn=default,ou=policies`` under the root. memberOf and the ppolicy state are operational. A
    bind name that is not an RFC 4514 DN is ``34 invalid DN``, and nothing, not even the root DSE,
    is read before a bind (``53 authentication required``)."""

    name = "ldap"
    password_policy_control = True
    operational = frozenset({"memberof", "pwdaccountlockedtime", "pwdchangedtime", "pwdfailuretime",
                             "pwdpolicysubentry", "pwdreset", "pwdgraceusetime", "pwdhistory"})
    root_dse_before_bind = False
    DEFAULT_POLICY = "cn=default,ou=policies"
    PERMANENTLY_LOCKED = "000001010000Z"

    def find(self, name: str):
        # ldaptor reads DNs leniently; slapd refuses what RFC 4514 does not allow (an unescaped
        # special character or NUL) and empty or BER-encoded values as invalidDNSyntax
        if not _DN.match(name):
            raise ldaperrors.LDAPInvalidDNSyntax("invalid DN")
        return super().find(name)

    def check(self, entry, password: bytes, now: float) -> None:
        policy = self._policy(entry)
        if self._locked(entry, policy, now):
            raise PolicyRefusal(ACCOUNT_LOCKED)
        if not password_matches(entry, self.password_attribute, password):
            raise PolicyRefusal(None)
        changed, max_age = _first(entry, "pwdChangedTime"), int(_first(policy, "pwdMaxAge", "0"))
        if changed is not None and max_age and _generalized_time(changed) + max_age <= now:
            raise PolicyRefusal(PASSWORD_EXPIRED)

    def _policy(self, entry):
        named = _first(entry, "pwdPolicySubentry")
        found = tree.lookup(self.root, named or f"{self.DEFAULT_POLICY},{self.root.dn.getText()}")
        return found if found is not None else {}

    def _locked(self, entry, policy, now: float) -> bool:
        locked_at = _first(entry, "pwdAccountLockedTime")
        if locked_at is None:
            return False
        duration = int(_first(policy, "pwdLockoutDuration", "0"))
        return locked_at == self.PERMANENTLY_LOCKED or not duration or now < _generalized_time(locked_at) + duration

    def no_such_object(self, dn: str, matched: str) -> str:
        return ""  # the matched DN says where the tree stops

    def search_refused(self) -> ldaperrors.LDAPException:
        return ldaperrors.LDAPUnwillingToPerform("authentication required")

    def root_dse(self) -> list[tuple[str, list[str]]]:
        return [("supportedFeatures", [ALL_OPERATIONAL_ATTRIBUTES])]


class ActiveDirectory(Flavour):
    """Binds by DN, by userPrincipalName or as ``DOMAIN\\sAMAccountName``; refusals carry AD's sub-code
    (``data 52e`` bad credentials, ``775`` locked, ``533`` disabled, ``701`` account expired,
    ``773`` must change password, ``532`` password expired) in the diagnostic message."""

    name = "active-directory"
    password_attribute = "unicodePwd"
    _SUB_CODES = {"bad password": "52e", "no such user": "52e", "locked": "775", "disabled": "533",
                  "account expired": "701", "must change password": "773", "password expired": "532"}
    ACCOUNTDISABLE = 0x2
    DONT_EXPIRE_PASSWORD = 0x10000

    def __init__(self, root) -> None:
        super().__init__(root)
        labels = [as_text(rdn.split()[0].value) for rdn in root.dn.split()]
        self.dns_domain = ".".join(labels).lower()
        self.netbios = labels[0].upper()
        self.max_password_age = abs(int(_first(root, "maxPwdAge", "0"))) / 1e7
        self.lockout_duration = abs(int(_first(root, "lockoutDuration", "0"))) / 1e7
        self._by_upn, self._by_account = {}, {}
        for entry in tree.entries(root):
            if (upn := _first(entry, "userPrincipalName")) is not None:
                self._by_upn[upn.lower()] = entry
            if (account := _first(entry, "sAMAccountName")) is not None:
                self._by_account[account.lower()] = entry

    def find(self, name: str):
        if "\\" in name:
            domain, _, account = name.partition("\\")
            return self._by_account.get(account.lower()) if domain.upper() == self.netbios else None
        if "@" in name and "=" not in name:
            return self._by_upn.get(name.lower())
        return super().find(name)

    def check(self, entry, password: bytes, now: float) -> None:
        if self._locked(entry, now):
            raise self.invalid_credentials("locked")
        if not password_matches(entry, self.password_attribute, password):
            raise self.invalid_credentials("bad password")
        control = int(_first(entry, "userAccountControl", "512"))
        if control & self.ACCOUNTDISABLE:
            raise self.invalid_credentials("disabled")
        expires = int(_first(entry, "accountExpires", "0"))
        if expires not in _NEVER and _from_filetime(expires) <= now:
            raise self.invalid_credentials("account expired")
        last_set = int(_first(entry, "pwdLastSet", "0"))
        if last_set == 0:
            raise self.invalid_credentials("must change password")
        if (not control & self.DONT_EXPIRE_PASSWORD and self.max_password_age
                and _from_filetime(last_set) + self.max_password_age <= now):
            raise self.invalid_credentials("password expired")

    def _locked(self, entry, now: float) -> bool:
        locked_at = int(_first(entry, "lockoutTime", "0"))
        if locked_at == 0:
            return False
        # a lockoutDuration of "forever" (2^63 ticks) keeps the account locked until an administrator acts
        return self.lockout_duration >= 2 ** 63 / 1e7 or now < _from_filetime(locked_at) + self.lockout_duration

    def invalid_credentials(self, why: str) -> ldaperrors.LDAPException:
        return ldaperrors.LDAPInvalidCredentials(
            f"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, "
            f"data {self._SUB_CODES[why]}, v4563")

    def authorization_id(self, entry) -> str:
        return f"u:{self.netbios}\\{_first(entry, 'sAMAccountName')}"

    def search_refused(self) -> ldaperrors.LDAPException:
        return ldaperrors.LDAPOperationsError(
            "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful "
            "bind must be completed on the connection., data 0, v4563")

    def root_dse(self) -> list[tuple[str, list[str]]]:
        base = self.root.dn.getText()
        return [("defaultNamingContext", [base]), ("rootDomainNamingContext", [base]),
                ("dnsHostName", [f"dc1.{self.dns_domain}"])]


FLAVOURS = {flavour.name: flavour for flavour in (PlainLdap, ActiveDirectory)}


def _generalized_time(value: str) -> float:
    """An LDAP GeneralizedTime (``20200101000000Z``) as epoch seconds."""
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return float("-inf")


def _from_filetime(ticks: int) -> float:
    return ticks / 1e7 - _FILETIME_EPOCH_OFFSET
