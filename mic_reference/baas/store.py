"""The BaaS stand-in's users and sessions, kept in the vault's database.

A user is created on first login (js SDK 4+ does not keep the session a signup makes);
a session is bound to the MIC access token it was opened with, so it dies with it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from ..vault import Vault, digest, schema


@dataclass
class AppUser:
    id: str
    app_key: str
    profile: dict[str, Any]  # username and _socialIdentity, sealed at rest


@dataclass
class Session:
    user: AppUser
    access_digest: str


class BaasStore:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def find_user(self, app_key: str, identity_key: str) -> AppUser | None:
        users = schema.baas_users
        with self.vault.transaction() as db:
            row = db.execute(select(users).where(users.c.identity_digest == digest(f"{app_key}\n{identity_key}"))
                             ).first()
        return None if row is None else self._user_from(row)

    def create_user(self, app_key: str, identity_key: str, profile: dict[str, Any]) -> AppUser:
        user = AppUser(secrets.token_hex(12), app_key, profile)
        key_id, sealed = self.vault.keyring.seal(profile, f"baas-user:{user.id}")
        with self.vault.transaction() as db:
            db.execute(insert(schema.baas_users).values(
                id=user.id, app_key=app_key, identity_digest=digest(f"{app_key}\n{identity_key}"),
                created_at=self.vault.clock.now(), key_id=key_id, sealed=sealed))
        return user

    def save_profile(self, user: AppUser) -> None:
        key_id, sealed = self.vault.keyring.seal(user.profile, f"baas-user:{user.id}")
        users = schema.baas_users
        with self.vault.transaction() as db:
            db.execute(update(users).where(users.c.id == user.id).values(key_id=key_id, sealed=sealed))

    def open_session(self, user: AppUser, access_digest: str) -> str:
        authtoken = secrets.token_urlsafe(32)
        with self.vault.transaction() as db:
            db.execute(insert(schema.baas_sessions).values(
                authtoken_digest=digest(authtoken), user_id=user.id, access_digest=access_digest, ended=False))
        return authtoken

    def find_session(self, app_key: str, authtoken: str) -> Session | None:
        sessions, users = schema.baas_sessions, schema.baas_users
        with self.vault.transaction() as db:
            row = db.execute(select(sessions.c.access_digest, sessions.c.ended, users)
                             .join(users, users.c.id == sessions.c.user_id)
                             .where(sessions.c.authtoken_digest == digest(authtoken))).first()
        if row is None or row.ended or row.app_key != app_key:
            return None
        return Session(self._user_from(row), row.access_digest)

    def end_session(self, authtoken: str) -> None:
        sessions = schema.baas_sessions
        with self.vault.transaction() as db:
            db.execute(update(sessions).where(sessions.c.authtoken_digest == digest(authtoken)).values(ended=True))

    def _user_from(self, row: Any) -> AppUser:
        return AppUser(row.id, row.app_key, self.vault.keyring.open(row.key_id, row.sealed, f"baas-user:{row.id}"))
