"""The Active Directory connector: a password checked by binding to AD as the user.

``provider.remoteService`` is a domain controller (``ldaps://`` as AD wants, or
``ldap://`` with ``startTLS``), ``options.baseDN`` the domain's naming context. A user
types ``alice``, ``alice@corp.example`` or ``CORP\\alice``; the connector binds with that
name (a bare name gets the domain's UPN suffix, ``options.domain``, by default the
baseDN's DC labels), then reads the user's entry with a filter escaped by RFC 4515: by
its UPN, else, as AD takes ``sAMAccountName@<the domain's DNS name>`` (the implicit UPN)
for an account whose UPN is unset or has another suffix, by its sAMAccountName. AD's
sub-code in a refused bind (``data 775`` locked, ``532`` password expired, …) becomes a
plain sentence for the app, and ``access_denied`` (an ``invalid_grant`` at the token
endpoint); the user id is ``objectGUID`` unless ``userIdAttribute`` says.
"""
from __future__ import annotations

import re
from typing import Any

from ldap3 import Connection
from ldap3.utils.dn import parse_dn

from ..config import AuthService
from .capabilities import ConnectorError
from .directory import BAD_CREDENTIALS, DirectoryLogin, schema

CALLBACK_PATH = None
PROVIDER_SCHEMA = schema({
    "domain": {"type": "string", "pattern": "^[A-Za-z0-9.-]+$",
               "description": "the UPN suffix added to a bare user name (default: from baseDN)"},
}, required=["baseDN"])

_DATA_CODE = re.compile(r"\bdata ([0-9a-f]{3,4})\b", re.IGNORECASE)
#: AD's sub-codes for a refused bind (MS-ADTS; "data NNN" in the diagnostic message)
_REFUSALS = {
    "525": BAD_CREDENTIALS, "52e": BAD_CREDENTIALS,
    "530": "This account may not log in at this time.",
    "531": "This account may not log in from here.",
    "532": "The password has expired; set a new one, then log in.",
    "533": "The account is disabled.",
    "701": "The account has expired.",
    "773": "The password must be changed before the first login.",
    "775": "The account is locked; ask an administrator to unlock it.",
}


def build(service: AuthService, transport: Any) -> "ActiveDirectoryLogin":
    return ActiveDirectoryLogin(service)


class ActiveDirectoryLogin(DirectoryLogin):
    default_user_id_attribute = "objectGUID"

    def __init__(self, service: AuthService) -> None:
        super().__init__(service)
        labels = [value for attribute, value, _ in parse_dn(self.base_dn) if attribute.lower() == "dc"]
        self.dns_domain = ".".join(labels).lower()
        self.domain = service.provider.options.get("domain", self.dns_domain).lower()

    def authenticate(self, connection: Connection, username: str, password: str) -> dict[str, Any]:
        if "\\" in username:
            bind_name, lookups = username, [("sAMAccountName", username.partition("\\")[2])]
        else:
            bind_name = username if "@" in username else f"{username}@{self.domain}"
            lookups = [("userPrincipalName", bind_name)]
            account, _, suffix = bind_name.rpartition("@")
            if suffix.lower() == self.dns_domain:
                # the implicit UPN, which AD looks at after the explicit ones
                lookups.append(("sAMAccountName", account))
        self.bind(connection, bind_name, password)
        entry = next(filter(None, (self.find_one(connection, attribute, value, "user")
                                   for attribute, value in lookups)), None)
        if entry is None:
            raise ConnectorError("invalid_grant", BAD_CREDENTIALS, debug="no single user by that name")
        return entry

    def refusal(self, result: dict[str, Any]) -> ConnectorError:
        found = _DATA_CODE.search(result.get("message") or "")
        code = found.group(1).lower() if found else ""
        if result.get("result") == 49 and code in _REFUSALS:
            # the right password for an account that may not log in now: another try on the
            # login page cannot help, so the login ends (access_denied) with AD's reason
            error = "invalid_grant" if _REFUSALS[code] == BAD_CREDENTIALS else "access_denied"
            return ConnectorError(error, _REFUSALS[code], debug="Active Directory gave a reason")
        return super().refusal(result)
