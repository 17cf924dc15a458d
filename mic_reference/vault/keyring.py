"""Encryption at rest: AES-256-GCM with named keys, so keys can be rotated.

Each record stores the id of the key that sealed it; the first key of the ring seals
new records, every key of the ring can still open old ones. Ciphertexts are bound to
the record they belong to (associated data), so one cannot be moved onto another.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class KeyringError(ValueError):
    pass


@dataclass
class Keyring:
    keys: dict[str, bytes] = field(repr=False)
    current: str

    @classmethod
    def parse(cls, spec: str) -> "Keyring":
        """``id:base64key,id2:base64key``: the first key seals, all of them open."""
        keys: dict[str, bytes] = {}
        for index, item in enumerate(part.strip() for part in spec.split(",") if part.strip()):
            key_id, sep, encoded = item.partition(":")
            if not sep or not key_id:
                raise KeyringError(f"vault key #{index + 1} must look like 'id:base64key'")
            try:
                key = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise KeyringError(f"vault key '{key_id}' is not valid base64") from None
            if len(key) != 32:
                raise KeyringError(f"vault key '{key_id}' must be 32 bytes (AES-256), not {len(key)}")
            if key_id in keys:
                raise KeyringError(f"vault key id '{key_id}' is used twice")
            keys[key_id] = key
        if not keys:
            raise KeyringError("no vault key given")
        return cls(keys, next(iter(keys)))

    @classmethod
    def generate(cls, key_id: str = "k1") -> "Keyring":
        return cls({key_id: os.urandom(32)}, key_id)

    def spec(self) -> str:
        return ",".join(f"{k}:{base64.b64encode(v).decode()}" for k, v in self.keys.items())

    def derive(self, purpose: str, key_id: str | None = None) -> tuple[str, bytes]:
        """A 32-byte key for another use (signing), derived from a vault key with HKDF."""
        key_id = key_id or self.current
        if key_id not in self.keys:
            raise KeyError(key_id)
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
        return key_id, hkdf.derive(self.keys[key_id])

    def seal(self, value: Any, associated: str) -> tuple[str, bytes]:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, json.dumps(value).encode(), associated.encode())
        return self.current, nonce + sealed

    def open(self, key_id: str, blob: bytes, associated: str) -> Any:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyringError(f"the vault has no key '{key_id}' to open this record")
        try:
            plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated.encode())
        except InvalidTag:
            raise KeyringError("a vault record failed its integrity check") from None
        return json.loads(plain)
