"""The console's own tables, on the config store's engine but in their own MetaData.

They sit beside the store's tables (so PostgreSQL scale-out shares users and
sessions between servers) without the store knowing about them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Engine, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

users = Table(
    "console_users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),
    # The second-factor secret, sealed with the environment's SecretBox.
    Column("factor_secret", Text, nullable=True),
    # A rotated secret waiting for its first code; takes over only once confirmed.
    Column("pending_secret", Text, nullable=True),
    # Replay guard: the last time step accepted; only later steps pass.
    Column("last_step", BigInteger, nullable=True),
    # JSON list of SHA-256 hashes of unused recovery codes.
    Column("recovery_codes", Text, nullable=False, default="[]"),
    Column("created_at", Float, nullable=False),
)

sessions = Table(
    "console_sessions",
    metadata,
    # SHA-256 of the cookie value: a leaked table does not leak live sessions.
    Column("id_hash", String(64), primary_key=True),
    Column("user", String(100), nullable=True),
    Column("stage", String(16), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

throttle = Table(
    "console_throttle",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", Float, nullable=False),
    Column("locked_until", Float, nullable=False),
)


def create_tables(engine: Engine) -> None:
    """Create the console tables if missing (idempotent)."""
    metadata.create_all(engine)
