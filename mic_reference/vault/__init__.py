"""The vault: the MIC's durable, encrypted memory (SQLAlchemy; SQLite by default, PostgreSQL by URL).

Restarting the MIC on the same database and keys loses nothing: codes, tokens and
refresh tokens stay valid until their TTLs. Nothing secret is stored in the clear.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from typing import Any, Iterator

from sqlalchemy import create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from plumbing.clock import Clock

from ..connectors.capabilities import Identity
from ..records import IssuedCode, IssuedToken, LoginGrant, PendingLogin
from . import schema
from .keyring import Keyring, KeyringError

__all__ = ["Vault", "Keyring", "KeyringError"]

#: how long a code is remembered after it expired (seconds), to recognise a replay (RFC 6749 4.1.2)
CODE_AFTERLIFE = 3600


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _in_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:")


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    in_memory = _in_memory(url)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           **({"poolclass": StaticPool} if in_memory else {}))

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection, _record):
        cursor = connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _insert(db: Any, table: Any, **values: Any) -> None:
    """Values apart from the statement: SQLAlchemy then reuses its compiled form instead of
    building and keying a new statement per row (~0.1 ms of CPU each; a password grant makes two)."""
    db.execute(insert(table), values)


class Vault:
    def __init__(self, url: str, keyring: Keyring, clock: Clock) -> None:
        self.clock = clock
        self.keyring = keyring
        self.engine = _engine(url)
        #: whether the data lives in this process only (an in-memory SQLite database)
        self.in_memory = _in_memory(url)
        # An in-memory database is one connection shared by every thread: take turns.
        self._turns = threading.Lock() if self.in_memory else nullcontext()
        schema.metadata.create_all(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One database transaction (the BaaS stand-in keeps its tables here too)."""
        with self._turns, self.engine.begin() as db:
            yield db

    def close(self) -> None:
        self.engine.dispose()

    # -- one-time values ----------------------------------------------------------------

    def first_use(self, key: str, until: float) -> bool:
        """Remember ``key`` until ``until``; False when it was already seen (a replay)."""
        table = schema.used_once
        try:
            with self.transaction() as db:
                db.execute(delete(table).where(table.c.until < self.clock.now()))
                _insert(db, table, key_digest=digest(key), until=until)
        except IntegrityError:
            return False
        return True

    # -- the configuration the admin API changed ------------------------------------------

    def save_configuration(self, document: dict[str, Any]) -> None:
        """Keep a changed configuration as a new revision: a restart starts from it."""
        key_id, sealed = self.keyring.seal(document, "configuration")
        with self.transaction() as db:
            _insert(db, schema.configurations, saved_at=self.clock.now(), key_id=key_id, sealed=sealed)

    def latest_configuration(self) -> dict[str, Any] | None:
        """The newest configuration the admin API saved, or None when it never changed one."""
        table = schema.configurations
        with self.transaction() as db:
            row = db.execute(select(table).order_by(table.c.revision.desc()).limit(1)).first()
        return None if row is None else self.keyring.open(row.key_id, row.sealed, "configuration")

    def forget_configurations(self) -> int:
        """Drop every saved revision: the configuration file rules again."""
        with self.transaction() as db:
            return db.execute(delete(schema.configurations)).rowcount

    # -- logins in progress -----------------------------------------------------------

    def put_pending(self, pending: PendingLogin) -> None:
        ref = digest(pending.ref)
        key_id, sealed = self.keyring.seal({
            "params": dict(pending.params), "callback_url": pending.callback_url, "csrf_digest": pending.csrf_digest,
            "identity": asdict(pending.identity) if pending.identity else None,
            "enrolling_secret": pending.enrolling_secret}, f"pending:{ref}")
        table = schema.pending_logins
        with self.transaction() as db:
            db.execute(delete(table).where(table.c.expires_at <= self.clock.now()))  # purge: none is kept past its TTL
            _insert(db, table, ref_digest=ref, expires_at=pending.expires_at, key_id=key_id, sealed=sealed)

    def take_pending(self, ref: str) -> PendingLogin | None:
        """The login waiting under ``ref``, once: a replayed callback finds nothing."""
        ref_digest = digest(ref)
        table = schema.pending_logins
        with self.transaction() as db:
            row = db.execute(select(table).where(table.c.ref_digest == ref_digest)).first()
            if row is None or db.execute(delete(table).where(table.c.ref_digest == ref_digest)).rowcount != 1:
                return None
        if self.clock.now() >= row.expires_at:
            return None
        data = self.keyring.open(row.key_id, row.sealed, f"pending:{ref_digest}")
        return PendingLogin(ref=ref, params=data["params"], callback_url=data["callback_url"],
                            expires_at=row.expires_at, csrf_digest=data.get("csrf_digest"),
                            identity=Identity(**data["identity"]) if data.get("identity") else None,
                            enrolling_secret=data.get("enrolling_secret"))

    # -- second factors --------------------------------------------------------------

    def totp_secret(self, subject: str) -> str | None:
        """The TOTP secret enrolled for a user of a service (``subject``), if any."""
        table = schema.mfa_enrollments
        subject_digest = digest(subject)
        with self.transaction() as db:
            row = db.execute(select(table).where(table.c.subject_digest == subject_digest)).first()
        return None if row is None else self.keyring.open(row.key_id, row.sealed, f"mfa:{subject_digest}")

    def enroll_totp(self, subject: str, secret: str, step: int) -> bool:
        """Keep a secret whose first code (at ``step``) checked out; False if one was enrolled meanwhile."""
        subject_digest = digest(subject)
        key_id, sealed = self.keyring.seal(secret, f"mfa:{subject_digest}")
        try:
            with self.transaction() as db:
                _insert(db, schema.mfa_enrollments, subject_digest=subject_digest, key_id=key_id,
                        sealed=sealed, enrolled_at=self.clock.now(), last_step=step)
        except IntegrityError:
            return False
        return True

    def use_totp_step(self, subject: str, step: int) -> bool:
        """Accept a code's time step once: a step not newer than the last accepted one is a replay."""
        table = schema.mfa_enrollments
        with self.transaction() as db:
            return db.execute(update(table).where(table.c.subject_digest == digest(subject),
                                                  table.c.last_step < step)
                              .values(last_step=step)).rowcount == 1

    # -- login grants -----------------------------------------------------------------

    def open_grant(self, identity: Identity, upstream_expires_at: float | None) -> LoginGrant:
        grant = LoginGrant(secrets.token_hex(16), identity, upstream_expires_at)
        key_id, sealed = self._seal_grant(grant)
        with self.transaction() as db:
            _insert(db, schema.login_grants, id=grant.id, created_at=self.clock.now(),
                    upstream_expires_at=upstream_expires_at, key_id=key_id, sealed=sealed)
        return grant

    def update_grant(self, grant: LoginGrant) -> None:
        """Keep new upstream tokens (after an upstream refresh)."""
        key_id, sealed = self._seal_grant(grant)
        table = schema.login_grants
        with self.transaction() as db:
            db.execute(update(table).where(table.c.id == grant.id).values(
                upstream_expires_at=grant.upstream_expires_at, key_id=key_id, sealed=sealed))

    def _seal_grant(self, grant: LoginGrant) -> tuple[str, bytes]:
        return self.keyring.seal(asdict(grant.identity), f"grant:{grant.id}")

    def _grant_from(self, row: Any) -> LoginGrant:
        identity = Identity(**self.keyring.open(row.grant_key_id, row.grant_sealed, f"grant:{row.grant_id}"))
        return LoginGrant(row.grant_id, identity, row.upstream_expires_at)

    # -- authorization codes (RFC 6749 4.1.2) -------------------------------------------

    def put_code(self, code: IssuedCode) -> None:
        codes = schema.codes
        with self.transaction() as db:
            # purge: a code is kept CODE_AFTERLIFE past its expiry, so a late replay still revokes its tokens
            db.execute(delete(codes).where(codes.c.expires_at <= self.clock.now() - CODE_AFTERLIFE))
            _insert(
                db, schema.codes, code_digest=digest(code.code), client_id=code.client_id,
                redirect_uri=code.redirect_uri, scope=code.scope, expires_at=code.expires_at,
                code_challenge=code.code_challenge,
                code_challenge_method=code.code_challenge_method, grant_id=code.grant.id, used=False)

    def redeem_code(self, code: str, client_id: str) -> IssuedCode | None:
        """A live, unused code of this client, now used.

        A code used twice is refused, and every token issued from its grant revoked.
        """
        code_digest = digest(code)
        codes = schema.codes
        with self.transaction() as db:
            row = db.execute(self._with_grant(codes).where(codes.c.code_digest == code_digest)).first()
            if row is None or row.client_id != client_id:
                return None
            claimed = db.execute(update(codes).where(codes.c.code_digest == code_digest, codes.c.used.is_(False))
                                 .values(used=True)).rowcount == 1
            if not claimed:
                self._revoke_grant_tokens(db, row.grant_id)
                return None
        if self.clock.now() >= row.expires_at:
            return None
        return IssuedCode(code=code, client_id=row.client_id, redirect_uri=row.redirect_uri, scope=row.scope,
                          expires_at=row.expires_at, code_challenge=row.code_challenge,
                          code_challenge_method=row.code_challenge_method, grant=self._grant_from(row))

    # -- tokens -----------------------------------------------------------------------

    def put_token(self, token: IssuedToken) -> None:
        with self.transaction() as db:
            _insert(
                db, schema.tokens, access_digest=digest(token.access_token),
                refresh_digest=digest(token.refresh_token) if token.refresh_token else None,
                client_id=token.client_id, scope=token.scope, issued_at=token.issued_at,
                expires_in=token.expires_in, refresh_expires_at=token.refresh_expires_at,
                grant_id=token.grant.id, revoked=False, refresh_used=False)

    def find_token(self, access_token: str) -> IssuedToken | None:
        token = self.find_token_by_digest(digest(access_token))
        if token is not None:
            token.access_token = access_token
        return token

    def find_token_by_digest(self, access_digest: str) -> IssuedToken | None:
        tokens = schema.tokens
        with self.transaction() as db:
            row = db.execute(self._with_grant(tokens).where(tokens.c.access_digest == access_digest)).first()
        return None if row is None else self._token_from(row)

    def claim_refresh(self, refresh_token: str) -> IssuedToken | None:
        """The token a live refresh token belongs to, which the refresh token may not serve again.

        Presenting a refresh token that was already used is taken as theft (RFC 6819
        5.2.2.3): its whole family, every token of the same login grant, is revoked.
        """
        refresh_digest = digest(refresh_token)
        tokens = schema.tokens
        with self.transaction() as db:
            row = db.execute(self._with_grant(tokens).where(tokens.c.refresh_digest == refresh_digest)).first()
            if row is None or row.revoked:
                return None
            claimed = db.execute(update(tokens).where(tokens.c.refresh_digest == refresh_digest,
                                                      tokens.c.refresh_used.is_(False))
                                 .values(refresh_used=True)).rowcount == 1
            if not claimed:
                self._revoke_grant_tokens(db, row.grant_id)
                return None
        if row.refresh_expires_at is None or self.clock.now() >= row.refresh_expires_at:
            return None
        return self._token_from(row, refresh_token=refresh_token)

    def revoke_grant(self, grant_id: str) -> None:
        with self.transaction() as db:
            self._revoke_grant_tokens(db, grant_id)

    @staticmethod
    def _revoke_grant_tokens(db: Any, grant_id: str) -> None:
        db.execute(update(schema.tokens).where(schema.tokens.c.grant_id == grant_id).values(revoked=True))

    @staticmethod
    def _with_grant(table: Any) -> Any:
        grants = schema.login_grants
        return (select(table, grants.c.key_id.label("grant_key_id"), grants.c.sealed.label("grant_sealed"),
                       grants.c.upstream_expires_at)
                .join(grants, grants.c.id == table.c.grant_id))

    def _token_from(self, row: Any, *, access_token: str = "", refresh_token: str | None = None) -> IssuedToken:
        return IssuedToken(access_token=access_token, refresh_token=refresh_token, client_id=row.client_id,
                           scope=row.scope, issued_at=row.issued_at, expires_in=row.expires_in,
                           refresh_expires_at=row.refresh_expires_at, clock=self.clock, revoked=row.revoked,
                           grant=self._grant_from(row))
