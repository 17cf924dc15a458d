"""The LDAP v3 protocol the directory speaks: ldaptor's server, made to behave like a real one.

Over ldaptor's ``LDAPServer`` it adds what real directories do and ldaptor does not:
the flavour's bind rules, no search (or compare) before a bind, password attributes
never returned nor tested, the flavour's operational attributes returned only when
asked for, the password policy control where the flavour has ppolicy, size and time
limits, StartTLS, "Who am I?" (RFC 4532), and a read-only tree.
Every bind, search, compare, StartTLS and whoami is logged and may be struck by an armed fault.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from ldaptor import interfaces
from ldaptor.protocols import pureldap
from ldaptor.protocols.ldap import distinguishedname, ldaperrors, ldapserver, ldapsyntax
from twisted.internet import defer, protocol, reactor, task
from twisted.internet.interfaces import ISSLTransport
from twisted.python import components

from .flavours import PASSWORD_ATTRIBUTES, PolicyRefusal, as_text as _text
from .tree import lookup, settled

if TYPE_CHECKING:
    from . import Directory

NOTICE_OF_DISCONNECTION = b"1.3.6.1.4.1.1466.20036"
WHO_AM_I = "1.3.6.1.4.1.4203.1.11.3"
PASSWORD_POLICY = b"1.3.6.1.4.1.42.2.27.8.5.1"
_SCOPES = {pureldap.LDAP_SCOPE_baseObject: "base", pureldap.LDAP_SCOPE_singleLevel: "one",
           pureldap.LDAP_SCOPE_wholeSubtree: "sub"}


class DirectoryProtocol(ldapserver.LDAPServer):
    factory: "DirectoryFactory"

    @property
    def directory(self) -> "Directory":
        return self.factory.directory

    def connectionMade(self) -> None:
        """A new connection, which a fault may drop at once (a directory that is down), answer with a
        Notice of Disconnection carrying its result (RFC 4511 4.4.1), or leave unread for its delay."""
        super().connectionMade()
        self._response_controls: dict[int, list[tuple]] = {}
        entry = self.directory.record("connect", {"peer": str(self.transport.getPeer().host)})
        fault = self.directory.fault_for("connect", entry)
        entry["status"] = 0
        if fault is None:
            return
        if fault.drop:
            self.transport.abortConnection()
            entry["status"] = None
        elif fault.result is not None:
            notice = pureldap.LDAPExtendedResponse(resultCode=fault.result, errorMessage=fault.message,
                                                   responseName=NOTICE_OF_DISCONNECTION)
            self.transport.write(pureldap.LDAPMessage(notice, id=0).toWire())
            self.transport.loseConnection()
            entry["status"] = fault.result
        elif fault.delay:
            self.transport.pauseProducing()  # network latency is wall time, not a TTL
            reactor.callLater(fault.delay, self.transport.resumeProducing)

    def handle(self, msg) -> None:
        self._message_id = msg.id  # the request a handler answers, for the controls of its response
        super().handle(msg)

    def queue(self, id, op) -> None:
        controls = self._response_controls.pop(id, None)
        if controls is None or not self.connected:
            return super().queue(id, op)
        self.transport.write(pureldap.LDAPMessage(op, id=id, controls=controls).toWire())

    # -- bind ---------------------------------------------------------------------

    def handle_LDAPBindRequest(self, request, controls, reply):
        if request.version != 3:
            raise ldaperrors.LDAPProtocolError(f"version {request.version} not supported")
        self.checkControls(controls)
        name = _text(request.dn)
        body = {"name": name, "mechanism": _text(request.auth[0]) if request.sasl else "simple",
                "password": "" if request.sasl else _text(request.auth)}

        message_id = self._message_id
        policy_asked = self.directory.flavour.password_policy_control and any(
            control[0] == PASSWORD_POLICY for control in controls or ())

        def bind(log_entry: dict):
            self.boundUser = None  # a failed bind leaves the connection anonymous (RFC 4511 4.2.1)
            if request.sasl:
                raise ldaperrors.LDAPAuthMethodNotSupported("SASL is not offered; use a simple bind")
            password = request.auth if isinstance(request.auth, bytes) else str(request.auth).encode()
            try:
                self.boundUser = self.directory.flavour.authenticate(name, password, self.directory.clock.now())
            except PolicyRefusal as refused:
                if policy_asked:
                    self._response_controls[message_id] = [_password_policy(refused.policy_error)]
                raise
            if policy_asked:
                self._response_controls[message_id] = [_password_policy(None)]
            return pureldap.LDAPBindResponse(resultCode=ldaperrors.Success.resultCode)

        return self._serve("bind", body, bind)

    # -- search and compare ---------------------------------------------------------

    def handle_LDAPSearchRequest(self, request, controls, reply):
        self.checkControls(controls)
        body = {"base": _text(request.baseObject), "scope": _SCOPES.get(request.scope, str(request.scope)),
                "filter": _filter_text(request.filter), "attributes": [_text(a) for a in request.attributes],
                "size_limit": request.sizeLimit, "time_limit": request.timeLimit}
        limits = [limit for limit in (request.timeLimit, self.directory.time_limit) if limit]
        return self._serve("search", body, lambda log_entry: self._search(request, reply, log_entry),
                           time_limit=min(limits) if limits else None)

    def _search(self, request, reply, log_entry: dict) -> Any:
        root_dse = request.baseObject == b"" and request.scope == pureldap.LDAP_SCOPE_baseObject
        if self.boundUser is None and not (root_dse and self.directory.flavour.root_dse_before_bind):
            raise self.directory.flavour.search_refused()
        if root_dse:
            return self.getRootDSE(request, reply)
        base = self._base(request.baseObject)
        if base is None:
            matched = self._matched(request.baseObject)
            return pureldap.LDAPSearchResultDone(resultCode=ldaperrors.LDAPNoSuchObject.resultCode,
                                                 matchedDN=matched, errorMessage=self.directory.flavour
                                                 .no_such_object(_text(request.baseObject), matched))
        if PASSWORD_ATTRIBUTES & _filter_attributes(request.filter):
            found: list = []  # a password is never a search criterion: nothing matches
        else:
            try:
                found = list(settled(base.search(filterObject=request.filter, scope=request.scope,
                                                  derefAliases=request.derefAliases)))
            except ldapsyntax.MatchNotImplemented:
                raise ldaperrors.LDAPInappropriateMatching("this kind of filter is not supported") from None
        limits = [limit for limit in (request.sizeLimit, self.directory.size_limit) if limit]
        size_limit = min(limits) if limits else len(found)
        for entry in found[:size_limit]:
            attributes = _visible(entry, request.attributes, request.typesOnly, self.directory.flavour.operational)
            reply(pureldap.LDAPSearchResultEntry(objectName=entry.dn.getText(), attributes=attributes))
        log_entry["returned"] = min(len(found), size_limit)
        if len(found) > size_limit:
            raise ldaperrors.LDAPSizeLimitExceeded()
        return pureldap.LDAPSearchResultDone(resultCode=ldaperrors.Success.resultCode)

    def handle_LDAPCompareRequest(self, request, controls, reply):
        self.checkControls(controls)
        attribute = _text(request.ava.attributeDesc.value)
        body = {"entry": _text(request.entry), "attribute": attribute}

        def compare(log_entry: dict):
            if self.boundUser is None:
                raise self.directory.flavour.search_refused()
            if attribute.lower() in PASSWORD_ATTRIBUTES:
                raise ldaperrors.LDAPInsufficientAccessRights("passwords are not compared; bind instead")
            return super(DirectoryProtocol, self).handle_LDAPCompareRequest(request, controls, reply)

        return self._serve("compare", body, compare)

    def getRootDSE(self, request, reply):
        """The root DSE (before a bind too where the flavour allows it): versions, naming context, extensions."""
        attributes = [("supportedLDAPVersion", ["3"]), ("namingContexts", [self.directory.root.dn.getText()]),
                      *self.directory.flavour.root_dse()]
        starttls = [_text(pureldap.LDAPStartTLSRequest.oid)] if self.directory.tls is not None else []
        attributes.append(("supportedExtension", [*starttls, WHO_AM_I]))
        reply(pureldap.LDAPSearchResultEntry(objectName="", attributes=attributes))
        return pureldap.LDAPSearchResultDone(resultCode=ldaperrors.Success.resultCode)

    def _base(self, dn: bytes):
        """The entry at ``dn``, or None if there is none."""
        try:
            return settled(self.directory.root.lookup(distinguishedname.DistinguishedName(stringValue=dn)))
        except distinguishedname.InvalidRelativeDistinguishedName:
            raise ldaperrors.LDAPInvalidDNSyntax("invalid DN") from None
        except ldaperrors.LDAPNoSuchObject:
            return None

    def _matched(self, dn: bytes) -> str:
        """The nearest entry above ``dn`` that is there (the matchedDN of RFC 4511 4.1.9), or ""."""
        name = distinguishedname.DistinguishedName(stringValue=dn)
        while name.split():
            name = name.up()
            if name.split() and lookup(self.directory.root, name.getText()) is not None:
                return name.getText()
        return ""

    # -- StartTLS, and what this directory does not do ---------------------------------

    def extendedRequest_startTLS(self, value, reply):
        def start(log_entry: dict):
            if self.directory.tls is None:
                raise ldaperrors.LDAPProtocolError("unsupported extended operation")
            if ISSLTransport.providedBy(self.transport):
                raise ldaperrors.LDAPOperationsError("TLS already started")
            reply(pureldap.LDAPStartTLSResponse(resultCode=ldaperrors.Success.resultCode,
                                                responseName=pureldap.LDAPStartTLSRequest.oid))
            self.transport.startTLS(self.directory.tls_options())
            log_entry["status"] = ldaperrors.Success.resultCode  # answered above, before the handshake
            return None

        return self._serve("starttls", {}, start)

    extendedRequest_startTLS.oid = pureldap.LDAPStartTLSRequest.oid

    def extendedRequest_whoami(self, value, reply):
        """Who am I? (RFC 4532): the authorization identity of the last successful bind, "" if none."""
        def whoami(log_entry: dict):
            identity = "" if self.boundUser is None else self.directory.flavour.authorization_id(self.boundUser)
            return pureldap.LDAPExtendedResponse(resultCode=ldaperrors.Success.resultCode, response=identity)

        return self._serve("whoami", {}, whoami)

    extendedRequest_whoami.oid = WHO_AM_I.encode()
    extendedRequest_LDAPPasswordModifyRequest = None  # read-only: unknown extended operation

    def _read_only(self, request, controls, reply):
        raise ldaperrors.LDAPInsufficientAccessRights("this directory is read-only; its tree comes from a fixture")

    handle_LDAPAddRequest = handle_LDAPDelRequest = handle_LDAPModifyRequest = handle_LDAPModifyDNRequest = _read_only

    # -- faults and the request log -------------------------------------------------

    def _serve(self, operation: str, body: dict, work: Callable[[dict], Any], *,
               time_limit: float | None = None) -> defer.Deferred:
        """Log the operation, then let an armed fault delay it, drop the connection or answer for it;
        else ``work(log_entry)`` answers."""
        entry = self.directory.record(operation, body)
        fault = self.directory.fault_for(operation, entry)
        delay = fault.delay if fault is not None else 0.0

        def act():
            if not self.connected:
                return None
            if fault is not None and fault.drop:
                self.transport.abortConnection()
                return None
            if fault is not None and fault.result is not None:
                raise ldaperrors.LDAPExceptionCollection.get_instance(fault.result, fault.message or None)
            return work(entry)

        if time_limit is not None and delay > time_limit:
            # it would outlast its time limit: the server gives up when the limit is reached
            deferred = task.deferLater(reactor, time_limit, _raise, ldaperrors.LDAPTimeLimitExceeded())
        elif delay:
            deferred = task.deferLater(reactor, delay, act)  # network latency is wall time, not a TTL
        else:
            deferred = defer.maybeDeferred(act)
        deferred.addBoth(_note_answer, entry)
        return deferred


class DirectoryFactory(protocol.ServerFactory):
    protocol = DirectoryProtocol

    def __init__(self, directory: "Directory") -> None:
        self.directory = directory


# ldaptor's inherited handlers find the tree by adapting the factory
components.registerAdapter(lambda factory: factory.directory.root, DirectoryFactory, interfaces.IConnectedLDAPEntry)


def _password_policy(error: int | None) -> tuple:
    """The password policy response control (draft-behera-ldap-password-policy 6.2), its
    ``error [1] ENUMERATED`` only when there is one, as slapd's ppolicy overlay sends it."""
    value = b"\x30\x00" if error is None else b"\x30\x03\x81\x01" + bytes([error])
    return PASSWORD_POLICY, None, value


def _raise(exc: Exception) -> None:
    raise exc


def _note_answer(result: Any, entry: dict) -> Any:
    entry["answered_monotonic"] = time.monotonic()
    if isinstance(result, defer.Failure) and result.check(ldaperrors.LDAPException):
        entry["status"], entry["message"] = result.value.resultCode, _text(result.value.message or "")
    elif result is not None and getattr(result, "resultCode", None) is not None:
        entry["status"] = result.resultCode
    return result


_COMPARISONS = {pureldap.LDAPFilter_equalityMatch: "=", pureldap.LDAPFilter_greaterOrEqual: ">=",
                pureldap.LDAPFilter_lessOrEqual: "<=", pureldap.LDAPFilter_approxMatch: "~="}


def _filter_text(search_filter: Any) -> str:
    """A filter as RFC 4515 writes it, its values escaped: what the log shows the directory received."""
    kind = type(search_filter)
    if kind in (pureldap.LDAPFilter_and, pureldap.LDAPFilter_or):
        return f"({'&' if kind is pureldap.LDAPFilter_and else '|'}{''.join(map(_filter_text, search_filter))})"
    if kind is pureldap.LDAPFilter_not:
        return f"(!{_filter_text(search_filter.value)})"
    if kind is pureldap.LDAPFilter_present:
        return f"({_text(search_filter.value)}=*)"
    if kind in _COMPARISONS:
        return (f"({_text(search_filter.attributeDesc.value)}{_COMPARISONS[kind]}"
                f"{_escape(search_filter.assertionValue.value)})")
    if kind is pureldap.LDAPFilter_substrings:
        parts = {type(part): _escape(part.value) for part in search_filter.substrings}
        middle = [_escape(part.value) for part in search_filter.substrings
                  if isinstance(part, pureldap.LDAPFilter_substrings_any)]
        return (f"({_text(search_filter.type)}=" + parts.get(pureldap.LDAPFilter_substrings_initial, "")
                + "*" + "".join(f"{m}*" for m in middle) + parts.get(pureldap.LDAPFilter_substrings_final, "") + ")")
    if kind is pureldap.LDAPFilter_extensibleMatch:
        return (f"({_text(search_filter.type.value) if search_filter.type else ''}"
                f"{':dn' if search_filter.dnAttributes and search_filter.dnAttributes.value else ''}"
                f"{':' + _text(search_filter.matchingRule.value) if search_filter.matchingRule else ''}"
                f":={_escape(search_filter.matchValue.value)})")
    return repr(search_filter)


def _escape(value: Any) -> str:
    raw = value if isinstance(value, bytes) else str(value).encode()
    return "".join(f"\\{byte:02x}" if byte in b"*()\\\x00" or byte > 0x7e else chr(byte) for byte in raw)


def _filter_attributes(search_filter: Any) -> set[str]:
    """Every attribute a filter tests, lower-cased."""
    kind = type(search_filter)
    if kind in (pureldap.LDAPFilter_and, pureldap.LDAPFilter_or):
        return set().union(*(_filter_attributes(part) for part in search_filter))
    if kind is pureldap.LDAPFilter_not:
        return _filter_attributes(search_filter.value)
    if kind is pureldap.LDAPFilter_present:
        return {_text(search_filter.value).lower()}
    if kind in _COMPARISONS:
        return {_text(search_filter.attributeDesc.value).lower()}
    if kind is pureldap.LDAPFilter_substrings:
        return {_text(search_filter.type).lower()}
    if kind is pureldap.LDAPFilter_extensibleMatch and search_filter.type:
        return {_text(search_filter.type.value).lower()}
    return set()


def _visible(entry, requested: list, types_only: bool, operational: frozenset[str]) -> list[tuple[str, list]]:
    """The attributes a search returns: those asked for (``*`` or none: all user attributes;
    ``+``: all operational ones; ``1.1``: none), never a password."""
    wanted = {_text(name).lower() for name in requested}
    every_user_attribute = not wanted or "*" in wanted

    def shown(name: str) -> bool:
        if name in PASSWORD_ATTRIBUTES:
            return False
        return name in wanted or ("+" in wanted if name in operational else every_user_attribute)

    return [(_text(name), [] if types_only else list(values)) for name, values in entry.items()
            if shown(_text(name).lower())]
