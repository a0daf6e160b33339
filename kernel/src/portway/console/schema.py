"""The console's own tables, in the config store's database.

They sit beside the store's tables (so PostgreSQL scale-out shares users,
sessions and lockouts between servers) without the store knowing about them.
"""

from __future__ import annotations

from portway.database import Database

TABLES = (
    """CREATE TABLE IF NOT EXISTS console_users (
        name VARCHAR(100) PRIMARY KEY,
        password_hash TEXT NOT NULL,
        -- The second-factor secret, sealed with the environment's SecretBox.
        factor_secret TEXT,
        -- A rotated secret waiting for its first code; takes over only once confirmed.
        pending_secret TEXT,
        -- Replay guard: the last time step accepted; only later steps pass.
        last_step BIGINT,
        -- JSON list of SHA-256 hashes of unused recovery codes.
        recovery_codes TEXT NOT NULL,
        created_at FLOAT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS console_sessions (
        -- SHA-256 of the cookie value: a leaked table does not leak live sessions.
        id_hash VARCHAR(64) PRIMARY KEY,
        "user" VARCHAR(100),
        stage VARCHAR(16) NOT NULL,
        csrf VARCHAR(64) NOT NULL,
        created_at FLOAT NOT NULL,
        expires_at FLOAT NOT NULL
    )""",
    # One row per throttled key (a user or a client address). ``pending`` counts the
    # attempts being checked right now, so concurrent attempts share one budget.
    """CREATE TABLE IF NOT EXISTS console_attempts (
        key VARCHAR(300) PRIMARY KEY,
        failures INTEGER NOT NULL,
        pending INTEGER NOT NULL,
        last_attempt FLOAT NOT NULL,
        last_failure FLOAT NOT NULL,
        locked_until FLOAT NOT NULL
    )""",
)


def create_tables(db: Database) -> None:
    """Create the console tables if missing (idempotent)."""
    db.create_tables(TABLES)
