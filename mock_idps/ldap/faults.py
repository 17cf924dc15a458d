"""Faults a test arms on a directory: a delay, a dropped connection, or an LDAP result code.

The path names the operation (``/connect``, ``/bind``, ``/search``, ``/compare``,
``/starttls``, ``/whoami``, or a glob such as ``/*``). ``{"path": "/connect", "drop": true}`` is a
directory that is down (each new connection is closed as it opens); ``{"path": "/bind",
"delay": 5}`` a slow bind; ``{"path": "/bind", "result": "busy"}`` answers with LDAP's
busy (51), ``unavailable`` (52) or any result code by name or number. On ``/connect`` a
result is a Notice of Disconnection (RFC 4511 4.4.1) and a delay a slow accept.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from ldaptor.protocols.ldap.ldaperrors import LDAPExceptionCollection

from plumbing.faults import Fault, FaultBook, FaultSpecError

OPERATIONS = ("connect", "bind", "search", "compare", "starttls", "whoami")
KEYS = {"path", "method", "result", "message", "delay", "drop", "times"}
RESULT_CODES = {cls.name.decode().lower(): code for code, cls in LDAPExceptionCollection.collection.items()
                if code not in (0, 5, 6)}  # success and the compare answers are not faults


@dataclass
class DirectoryFault(Fault):
    result: int | None = None
    message: str = ""

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "result": self.result, "message": self.message}


class DirectoryFaultBook(FaultBook):
    def _parse(self, spec: dict[str, Any]) -> DirectoryFault:
        self._check_keys(spec, KEYS)
        common = self._common(spec)
        if not any(fnmatchcase(f"/{operation}", common["path"]) for operation in OPERATIONS):
            raise FaultSpecError(f"path names an LDAP operation: {', '.join('/' + o for o in OPERATIONS)} "
                                 "(or a glob over them)")
        result = _result_code(spec.get("result"))
        message = spec.get("message", "")
        if not isinstance(message, str):
            raise FaultSpecError("message is the diagnostic text sent with the result")
        if result is None and not common["drop"] and not common["delay"]:
            raise FaultSpecError("a directory fault needs a result (busy, unavailable, …), a delay or drop: true")
        return DirectoryFault(id=self.next_id(), result=result, message=message, **common)


def _result_code(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in RESULT_CODES:
        return RESULT_CODES[value.lower()]
    if isinstance(value, int) and not isinstance(value, bool) and value in RESULT_CODES.values():
        return value
    raise FaultSpecError(f"result is an LDAP result code, by name or number: busy (51), unavailable (52), "
                         f"unwillingToPerform (53), … not {value!r}")
