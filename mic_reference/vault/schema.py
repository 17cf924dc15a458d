"""The vault's tables. Bearer values are stored only as SHA-256 digests; identities and
upstream tokens only sealed (AES-GCM); what is in the clear is what lookups need."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()

_DIGEST = String(64)


def _sealed() -> list[Column]:
    """The id of the key that sealed a record, and the record sealed with it (AES-GCM)."""
    return [Column("key_id", String(64), nullable=False), Column("sealed", LargeBinary, nullable=False)]


pending_logins = Table(
    "pending_logins", metadata,
    Column("ref_digest", _DIGEST, primary_key=True),
    Column("expires_at", Float, nullable=False),
    *_sealed(),
)

mfa_enrollments = Table(
    "mfa_enrollments", metadata,
    Column("subject_digest", _DIGEST, primary_key=True),
    Column("enrolled_at", Float, nullable=False),
    Column("last_step", Integer, nullable=False),  # the last TOTP time step accepted: no code serves twice
    *_sealed(),
)

login_grants = Table(
    "login_grants", metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("upstream_expires_at", Float),
    *_sealed(),
)

codes = Table(
    "codes", metadata,
    Column("code_digest", _DIGEST, primary_key=True),
    Column("client_id", Text, nullable=False),
    Column("redirect_uri", Text),
    Column("scope", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("code_challenge", Text),
    Column("code_challenge_method", String(16)),
    Column("grant_id", String(64), ForeignKey("login_grants.id"), nullable=False),
    Column("used", Boolean, nullable=False, default=False),
)

tokens = Table(
    "tokens", metadata,
    Column("access_digest", _DIGEST, primary_key=True),
    Column("refresh_digest", _DIGEST, unique=True),
    Column("client_id", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("issued_at", Float, nullable=False),
    Column("expires_in", Integer, nullable=False),
    Column("refresh_expires_at", Float),
    Column("grant_id", String(64), ForeignKey("login_grants.id"), nullable=False, index=True),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("refresh_used", Boolean, nullable=False, default=False),
)

# One-time values seen (a SAML assertion ID), as digests, until they could no longer be
# accepted anyway: a replay is refused across restarts and across worker processes.
used_once = Table(
    "used_once", metadata,
    Column("key_digest", _DIGEST, primary_key=True),
    Column("until", Float, nullable=False, index=True),
)

# The configuration as the admin API last changed it (sealed: it holds client secrets);
# the newest revision wins over the configuration file when the MIC starts.
configurations = Table(
    "configurations", metadata,
    Column("revision", Integer, primary_key=True, autoincrement=True),
    Column("saved_at", Float, nullable=False),
    *_sealed(),
)

# The BaaS stand-in: app users (created on first login) and their sessions.
baas_users = Table(
    "baas_users", metadata,
    Column("id", String(64), primary_key=True),
    Column("app_key", Text, nullable=False),
    Column("identity_digest", _DIGEST, nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    *_sealed(),
)

baas_sessions = Table(
    "baas_sessions", metadata,
    Column("authtoken_digest", _DIGEST, primary_key=True),
    Column("user_id", String(64), ForeignKey("baas_users.id"), nullable=False),
    Column("access_digest", _DIGEST, nullable=False),
    Column("ended", Boolean, nullable=False, default=False),
)
