"""The LDAP connector: a password checked by binding to an LDAP directory as the user.

``provider.remoteService`` is the directory (``ldap://`` or ``ldaps://``), ``options.baseDN``
where users are. The name the user types is the value of ``loginAttribute`` (default: the
``userIdAttribute``, by default ``uid``; ``mail`` or ``cn`` elsewhere). With a service
account (``bindDN``/``bindPassword``) the connector binds as it, finds the one entry of
``userObjectClass`` matching ``userFilter`` whose login attribute is the name typed, in a
filter escaped by RFC 4515, and binds again as that entry; without one it binds directly
as ``<loginAttribute>=<name>,<baseDN>``, the name escaped by RFC 4514, and reads its own
entry. The entry's attributes (mail, cn, memberOf, …) become the identity's.

The user's bind asks for the password policy control (draft-behera-ldap-password-policy,
OpenLDAP's ppolicy overlay): a directory that answers it says why it refused the right
password of a locked account or an expired one, which becomes a plain sentence for the
app and ``access_denied``, as Active Directory's reasons do; without it, every refusal
is a wrong password.
"""
from __future__ import annotations

from typing import Any

from ldap3 import Connection
from ldap3.utils.dn import escape_rdn

from ..config import AuthService
from .capabilities import ConnectorError
from .directory import ACCOUNT_LOCKED, BAD_CREDENTIALS, PASSWORD_EXPIRED, DirectoryLogin, schema

#: a password login at MIC's own page or its token endpoint; nothing comes back by redirect
CALLBACK_PATH = None
_NAME = "^[A-Za-z][A-Za-z0-9-]*$"
PASSWORD_POLICY = "1.3.6.1.4.1.42.2.27.8.5.1"
#: the control's errors (passwordExpired, accountLocked) the user can act on
_POLICY_ERRORS = {0: PASSWORD_EXPIRED, 1: ACCOUNT_LOCKED}
PROVIDER_SCHEMA = schema({
    "userObjectClass": {"type": "string", "pattern": _NAME,
                        "description": "the object class of user entries (default inetOrgPerson)"},
    "loginAttribute": {"type": "string", "pattern": _NAME,
                       "description": "the attribute holding the name users type (default: userIdAttribute)"},
    "userFilter": {"type": "string", "pattern": r"^\(.*\)$",
                   "description": "an RFC 4515 filter user entries must also match, e.g. "
                                  "(memberOf=cn=app-users,ou=groups,dc=example,dc=org)"},
    "bindDN": {"type": "string", "minLength": 1, "description": "a service account to search for users as"},
    "bindPassword": {"type": "string", "minLength": 1},
}, required=["baseDN"], dependentRequired={"bindDN": ["bindPassword"], "bindPassword": ["bindDN"]})


def build(service: AuthService, transport: Any) -> "LdapLogin":
    return LdapLogin(service)


class LdapLogin(DirectoryLogin):
    default_user_id_attribute = "uid"

    def __init__(self, service: AuthService) -> None:
        super().__init__(service)
        options = service.provider.options
        self.object_class = options.get("userObjectClass", "inetOrgPerson")
        self.login_attribute = options.get("loginAttribute", self.user_id_attribute)
        self.user_filter = options.get("userFilter", "")
        self.service_account = (options["bindDN"], options["bindPassword"]) if "bindDN" in options else None

    def authenticate(self, connection: Connection, username: str, password: str) -> dict[str, Any]:
        if self.service_account is None:
            dn = f"{self.login_attribute}={_rdn_value(username)},{self.base_dn}"
            self.bind(connection, dn, password, [(PASSWORD_POLICY, False, None)])
            entry = self.read_entry(connection, dn, f"(&(objectClass={self.object_class}){self.user_filter})")
        else:
            self.bind_service_account(connection)
            entry = self.find_one(connection, self.login_attribute, username, self.object_class, self.user_filter)
            if entry is None:
                raise ConnectorError("invalid_grant", BAD_CREDENTIALS, debug="no single user by that name")
            self.bind(connection, entry["dn"], password, [(PASSWORD_POLICY, False, None)])
        if entry is None:
            raise ConnectorError("invalid_grant", BAD_CREDENTIALS, debug="the user's entry could not be read")
        return entry

    def refusal(self, result: dict[str, Any]) -> ConnectorError:
        control = (result.get("controls") or {}).get(PASSWORD_POLICY) or {}
        reason = _POLICY_ERRORS.get(_policy_error(control.get("value")))
        if result.get("result") == 49 and reason:
            # the account cannot log in now, whatever is typed: the login ends, with the reason
            return ConnectorError("access_denied", reason, debug="the directory's password policy gave a reason")
        return super().refusal(result)

    def bind_service_account(self, connection: Connection) -> None:
        try:
            self.bind(connection, *self.service_account)
        except ConnectorError as exc:
            if exc.error != "invalid_grant":
                raise
            # the MIC's own credentials, not the user's: a misconfiguration
            raise ConnectorError("server_error", "the directory could not check the login",
                                 debug="the directory refused the service account (bindDN)") from None


def _rdn_value(name: str) -> str:
    """``name`` as an RDN value (RFC 4514 2.4); ldap3 leaves a NUL as a backslash and the NUL, not ``\\00``."""
    return escape_rdn(name).replace("\\\x00", "\\00")


def _policy_error(value: bytes | None) -> int | None:
    """The ``error [1] ENUMERATED`` of a password policy response control's value (a BER SEQUENCE
    of an optional warning [0] and that error), or None: absent, or not a value this reads."""
    if not value or len(value) < 2 or value[0] != 0x30 or value[1] != len(value) - 2:
        return None
    at = 2
    while at + 2 <= len(value):
        tag, length = value[at], value[at + 1]
        if length & 0x80:
            return None  # long-form lengths: not what a policy response needs
        if tag == 0x81 and length == 1 and at + 3 <= len(value):
            return value[at + 2]
        at += 2 + length
    return None
