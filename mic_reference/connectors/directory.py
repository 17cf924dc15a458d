"""What the LDAP and Active Directory connectors share: one bounded conversation with a directory per login.

Each login opens its own connection (ldap3), so a directory that was down or slow is
used again as soon as it answers, without a restart. The entry is read with ``*`` and,
by name, every attribute the service maps (allowedAttributes, the data-link header
mapping, the user id): a directory returns operational attributes, such as OpenLDAP's
memberOf (memberof overlay), only when they are named (RFC 4511 4.5.1.8). Every
exchange waits at most the provider's ``timeout``. Names typed by users reach the directory only escaped (RFC
4515 in filters, RFC 4514 in DNs, by ldap3's own functions); what the app is told of a
refusal names no DN, filter or diagnostic text of the directory.
"""
from __future__ import annotations

import re
import ssl
import uuid
from abc import abstractmethod
from typing import Any
from urllib.parse import urlsplit

from ldap3 import IP_SYSTEM_DEFAULT, NONE, SIMPLE, Connection, Server, Tls
from ldap3.core.exceptions import (LDAPCommunicationError, LDAPException, LDAPSessionTerminatedByServerError,
                                   LDAPSocketOpenError, LDAPSocketReceiveError, LDAPStartTLSError)
from ldap3.utils.conv import escape_filter_chars

from ..config import AuthService
from .capabilities import ConnectorError, Identity, PasswordLogin, credentials_fit

DEFAULT_TIMEOUT = 5
_ATTRIBUTE = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]*$"}
#: an attribute description a directory understands (RFC 4512 2.5); other mapped names are not asked for
_DESCRIPTION = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$")
#: what the MIC itself puts in the identity (the user id, the app), never a directory attribute
_MIC_ATTRIBUTES = frozenset({"id", "audience"})
#: what both connector types accept in ``provider``; each adds its own options
COMMON_OPTIONS = {
    "baseDN": {"type": "string", "minLength": 1, "description": "where users are searched for"},
    "userIdAttribute": {**_ATTRIBUTE, "description": "the attribute whose value is the user's id"},
    "startTLS": {"type": "boolean", "description": "upgrade an ldap:// connection to TLS (RFC 4513 3)"},
    "caCertificate": {"type": "string", "pattern": "^$|-----BEGIN CERTIFICATE-----",
                      "description": "PEM of the CA the directory's certificate must chain to "
                                     "(empty or left out: the system's trust store)"},
    "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 60,
                "description": f"seconds each exchange with the directory may take (default {DEFAULT_TIMEOUT})"},
}
REMOTE_SERVICE = {"type": "string", "pattern": "^ldaps?://[^/?#@]+/?$",
                  "description": "the directory: ldap://host:port or ldaps://host:port"}
#: the directory is there but cannot serve now (busy, unavailable, a limit it hit)
_TRANSIENT = {3: "timeLimitExceeded", 11: "adminLimitExceeded", 51: "busy", 52: "unavailable"}
_BINARY_IDS = {"objectguid": lambda raw: str(uuid.UUID(bytes_le=raw)), "objectsid": lambda raw: _sid(raw)}
BAD_CREDENTIALS = "The username or password is not right."
ACCOUNT_LOCKED = "The account is locked; ask an administrator to unlock it."
PASSWORD_EXPIRED = "The password has expired; set a new one, then log in."
_FAILED_EXCHANGES = {LDAPSocketOpenError: "no connection to the directory",
                     LDAPSocketReceiveError: "no answer from the directory in time",
                     LDAPSessionTerminatedByServerError: "the directory closed the connection"}


def schema(options: dict[str, Any], required: list[str], **rules: Any) -> dict[str, Any]:
    """A connector type's ``provider`` schema: the common options, its own, and further ``rules`` on them."""
    return {"type": "object", "required": ["remoteService", "options"],
            "properties": {"remoteService": REMOTE_SERVICE,
                           "options": {"type": "object", "additionalProperties": False, "required": required,
                                       "properties": {**COMMON_OPTIONS, **options}, **rules}}}


class DirectoryLogin(PasswordLogin):
    """A password login against a directory; subclasses say whom to bind as and how to find the entry."""

    default_user_id_attribute = ""

    def __init__(self, service: AuthService) -> None:
        options = service.provider.options
        address = urlsplit(service.provider.remote_service)
        secure = address.scheme == "ldaps"
        self.base_dn = options["baseDN"]
        self.user_id_attribute = options.get("userIdAttribute", self.default_user_id_attribute)
        self.start_tls = bool(options.get("startTLS")) and not secure
        self.timeout = options.get("timeout", DEFAULT_TIMEOUT)
        self.attributes = _requested(service, self.user_id_attribute)
        tls = Tls(validate=ssl.CERT_REQUIRED, version=ssl.PROTOCOL_TLS_CLIENT,
                  ca_certs_data=options.get("caCertificate") or None)
        # IP_SYSTEM_DEFAULT: ldap3's other modes skip an address for a while after one failed
        # connection, which would keep a directory that came back unused
        self.server = Server(address.hostname, address.port or (636 if secure else 389), use_ssl=secure, tls=tls,
                             get_info=NONE, connect_timeout=self.timeout, mode=IP_SYSTEM_DEFAULT)

    def password_login(self, username: str, password: str) -> Identity:
        if not credentials_fit(username, password):
            # an empty password would make an unauthenticated bind, which some directories let through;
            # a bind of a megabyte makes real ones (Samba, slapd's sockbuf limit) drop the connection
            raise ConnectorError("invalid_grant", BAD_CREDENTIALS,
                                 debug="no username or password, or one longer than the MIC sends")
        connection = Connection(self.server, receive_timeout=self.timeout, read_only=True, auto_referrals=False,
                                raise_exceptions=False, return_empty_attributes=False)
        try:
            connection.open()
            if self.start_tls:
                connection.start_tls()
            entry = self.authenticate(connection, username, password)
        except (LDAPStartTLSError, ssl.SSLCertVerificationError):
            # the MIC's configuration (its CA) or the directory's certificate is wrong: no retry mends it
            raise ConnectorError("server_error", "the directory's certificate could not be trusted",
                                 debug="TLS: certificate verification failed") from None
        except LDAPCommunicationError as exc:
            raise ConnectorError("temporarily_unavailable", "the directory could not be reached in time",
                                 debug=_FAILED_EXCHANGES.get(type(exc), "the connection failed")) from None
        except LDAPException as exc:
            raise ConnectorError("server_error", "the directory could not check the login",
                                 debug=type(exc).__name__) from None
        finally:
            _close(connection)
        return self.identity(entry)

    @abstractmethod
    def authenticate(self, connection: Connection, username: str, password: str) -> dict[str, Any]:
        """Bind as the user and return their entry (ldap3's response item), or raise ConnectorError."""

    # -- what subclasses use ------------------------------------------------------------

    def bind(self, connection: Connection, name: str, password: str, controls: list | None = None) -> None:
        # (not ldap3's rebind, which turns a timed-out answer into a bind error)
        connection.authentication, connection.user, connection.password = SIMPLE, name, password
        if not connection.bind(controls=controls):
            raise self.refusal(connection.result)

    def find_one(self, connection: Connection, attribute: str, value: str, object_class: str,
                 also: str = "") -> dict[str, Any] | None:
        """The single entry whose ``attribute`` equals ``value`` (escaped, RFC 4515) and that matches the
        filter ``also``, or None."""
        search_filter = f"(&(objectClass={object_class}){also}({attribute}={escape_filter_chars(value)}))"
        connection.search(self.base_dn, search_filter, attributes=self.attributes, size_limit=2)
        self.check(connection.result, allowed=(0, 4, 32))  # 4: two or more; 32: the base is not there
        found = [item for item in connection.response or () if item.get("type") == "searchResEntry"]
        return found[0] if len(found) == 1 else None

    def read_entry(self, connection: Connection, dn: str, search_filter: str) -> dict[str, Any] | None:
        """The entry at ``dn`` if it matches ``search_filter``, or None."""
        connection.search(dn, search_filter, search_scope="BASE", attributes=self.attributes)
        self.check(connection.result, allowed=(0, 32))
        found = [item for item in connection.response or () if item.get("type") == "searchResEntry"]
        return found[0] if found else None

    def refusal(self, result: dict[str, Any]) -> ConnectorError:
        """What a failed bind means to the app."""
        if result.get("result") in (34, 49):  # 34: the name typed makes no DN (slapd answers so)
            return ConnectorError("invalid_grant", BAD_CREDENTIALS, debug="the directory refused the credentials")
        return self.failure(result)

    def check(self, result: dict[str, Any], allowed: tuple[int, ...] = (0,)) -> None:
        if result.get("result") not in allowed:
            raise self.failure(result)

    @staticmethod
    def failure(result: dict[str, Any]) -> ConnectorError:
        code = result.get("result")
        if code in _TRANSIENT:
            return ConnectorError("temporarily_unavailable", "the directory cannot serve logins right now",
                                  debug=f"directory result {code} {_TRANSIENT[code]}")
        return ConnectorError("server_error", "the directory could not check the login",
                              debug=f"directory result {code} {result.get('description', '')}".strip())

    def identity(self, entry: dict[str, Any]) -> Identity:
        attributes = _attributes(entry.get("raw_attributes", {}))
        user_id = attributes.get(self.user_id_attribute)
        if isinstance(user_id, list):
            user_id = user_id[0] if len(user_id) == 1 else None
        if not user_id:
            raise ConnectorError("server_error", "the directory did not say who the user is",
                                 debug=f"the entry has no single '{self.user_id_attribute}'")
        return Identity(user_id=str(user_id), attributes=attributes)


def _requested(service: AuthService, user_id_attribute: str) -> list[str]:
    """``*`` and the attributes the service maps, by name, each once."""
    requested = {"*": "*"}
    for name in (*service.allowed_attributes, *service.datalink_header_mapping, user_id_attribute):
        if _DESCRIPTION.match(name) and name.lower() not in _MIC_ATTRIBUTES:
            requested.setdefault(name.lower(), name)
    return list(requested.values())


def _attributes(raw: dict[str, list[bytes]]) -> dict[str, Any]:
    """The entry's attributes as text (one value: a string; several: a list); binary ids formatted."""
    attributes: dict[str, Any] = {}
    for name, values in raw.items():
        convert = _BINARY_IDS.get(name.lower())
        try:
            texts = [convert(v) if convert else v.decode("utf-8") for v in values]
        except (UnicodeDecodeError, ValueError):
            continue  # other binary values (photos, certificates) are not identity attributes
        if texts:
            attributes[name] = texts[0] if len(texts) == 1 else texts
    return attributes


def _sid(raw: bytes) -> str:
    """A Windows SID in its S-1-5-21-… form (MS-DTYP 2.4.2)."""
    if len(raw) < 8 or len(raw) != 8 + 4 * raw[1]:
        raise ValueError("not a SID")
    authority = int.from_bytes(raw[2:8], "big")
    subs = [int.from_bytes(raw[8 + 4 * i:12 + 4 * i], "little") for i in range(raw[1])]
    return "-".join(["S", str(raw[0]), str(authority), *map(str, subs)])


def _close(connection: Connection) -> None:
    try:
        if not connection.closed:
            connection.unbind()
    except LDAPException:
        pass
