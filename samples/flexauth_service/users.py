"""The service's users: a SQLite table of names, salted scrypt hashes, an MFA flag and attributes.

Passwords are never stored: each has its own random salt and an scrypt hash (RFC 7914),
compared in constant time. A name that is not there costs the same hashing as one that
is, so timing does not tell which names exist. Names are compared in Unicode NFC, so
"é" typed as one code point or as "e" and a combining accent is the same user.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import unicodedata
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

#: scrypt's cost (RFC 7914): 2**14 rounds of 8-block mixing, about 16 MiB and 40 ms a check
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCHEMA = """CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    mfa_required INTEGER NOT NULL DEFAULT 0,
    attributes TEXT NOT NULL DEFAULT '{}'
)"""

#: the users the MIC conformance suite logs in with (its embedded target names them)
DEMO_USERS = [
    {"username": "alice", "password": "wonderland",
     "attributes": {"email": "alice@example.org", "name": "Alice Liddell", "groups": ["readers"]}},
    {"username": "bob", "password": "builder",
     "attributes": {"email": "bob@example.org", "name": "Bob the Builder", "groups": ["builders", "readers"]}},
    {"username": "Zoë-日本", "password": "ünïcødé-pässwörd",
     "attributes": {"email": "zoe@example.org", "name": "Zoë Yamada", "groups": ["readers"]}},
    {"username": "carol", "password": "lookingglass", "mfa_required": True,
     "attributes": {"email": "carol@example.org", "name": "Carol Dodgson", "groups": ["admins"]}},
]


@dataclass(frozen=True)
class User:
    username: str
    mfa_required: bool
    attributes: dict[str, Any] = field(default_factory=dict)


def normalized(username: str) -> str:
    return unicodedata.normalize("NFC", username)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024,
                          dklen=length)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` hashes to ``stored`` (with the salt and cost stored beside it)."""
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        raise ValueError(f"unknown password hash scheme {scheme!r}")
    expected = base64.b64decode(digest)
    return hmac.compare_digest(_scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected)),
                               expected)


# a hash no password was ever hashed to: checked against when the name is unknown, to spend the same time
_NOBODY = hash_password(base64.b64encode(os.urandom(24)).decode())


class UserStore:
    """Users in one SQLite file; every call opens its own connection (requests come on many threads)."""

    def __init__(self, path: str) -> None:
        self.path = path
        with closing(self._connect()) as db, db:
            db.execute(_SCHEMA)

    def add(self, username: str, password: str, *, mfa_required: bool = False,
            attributes: dict[str, Any] | None = None) -> None:
        """A new user, or new password, flag and attributes for one already there."""
        if not username or not password:
            raise ValueError("a user needs a name and a password")
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
                       (normalized(username), hash_password(password), int(mfa_required),
                        json.dumps(attributes or {})))

    def add_demo_users(self) -> None:
        for user in DEMO_USERS:
            self.add(user["username"], user["password"], mfa_required=user.get("mfa_required", False),
                     attributes=user["attributes"])

    def check(self, username: str, password: str) -> User | None:
        """The user these credentials belong to, or None (the same work whether or not the name exists)."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT username, password_hash, mfa_required, attributes FROM users "
                             "WHERE username = ?", (normalized(username),)).fetchone()
        if row is None:
            password_matches(password, _NOBODY)
            return None
        if not password_matches(password, row[1]):
            return None
        return User(row[0], bool(row[2]), json.loads(row[3]))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)
