"""Login throttling per user and per client address, with growing lockouts.

``FREE_FAILURES`` failures in a row are allowed; each further one locks the
key for ``BASE_LOCK_S * 2**(n - FREE_FAILURES - 1)`` seconds, up to
``MAX_LOCK_S``. A quiet ``FORGET_AFTER_S`` since the last failure forgets
the count. Counts live in the config store, so every server sharing it
(and a restart) sees the same lockouts.

An attempt is *recorded before it is checked*: :meth:`Throttle.begin` takes
one unit of the key's budget in the same transaction that reads it, and the
budget counts the attempts still being checked. So however many attempts
arrive at once, at most ``FREE_FAILURES + 1`` passwords (or codes) are ever
checked before the lock, and one per lock period after it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from portway.console import schema
from portway.database import Database, Row, Tx

FREE_FAILURES = 4
BASE_LOCK_S = 30.0
MAX_LOCK_S = 3600.0
FORGET_AFTER_S = 3600.0
# An attempt still "being checked" after this long belongs to a server that died mid-check.
PENDING_TTL_S = 60.0

log = structlog.get_logger("portway.console")


@dataclass(frozen=True)
class Lock:
    """A key that is locked, and for how much longer."""

    key: str
    seconds_left: int


def lock_seconds(failures: int) -> float:
    if failures <= FREE_FAILURES:
        return 0.0
    return float(min(BASE_LOCK_S * 2 ** (failures - FREE_FAILURES - 1), MAX_LOCK_S))


def _budget(failures: int) -> int:
    """How many attempts may be checked at once for a key with ``failures`` failures counted."""
    return max(FREE_FAILURES + 1 - failures, 1)


class Throttle:
    """The ``console_attempts`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        schema.create_tables(db)

    def begin(self, *keys: str) -> Lock | None:
        """Reserve one attempt on every key, or return the lock that refuses it (reserving nothing)."""
        now = time.time()
        ordered = sorted(set(keys))  # one lock order for every caller: no deadlock on PostgreSQL
        with self.db.transaction(write=True) as tx:
            rows = self._rows_for_update(tx, ordered, now)
            for key in ordered:
                lock = _refusal(rows[key], now)
                if lock is not None:
                    return lock
            for key in ordered:
                tx.execute(
                    "UPDATE console_attempts SET pending = ?, last_attempt = ?, failures = ? WHERE key = ?",
                    (_pending(rows[key], now) + 1, now, _failures(rows[key], now), key),
                )
        return None

    def fail(self, *keys: str, stage: str) -> None:
        """End a reserved attempt as a failure; lock the keys that are past the free allowance."""
        now = time.time()
        with self.db.transaction(write=True) as tx:
            rows = self._rows_for_update(tx, sorted(set(keys)), now)
            for key, row in rows.items():
                failures = _failures(row, now) + 1
                lock_s = lock_seconds(failures)
                until = max(row["locked_until"], now + lock_s)
                pending = max(_pending(row, now) - 1, 0)
                tx.execute(
                    "UPDATE console_attempts SET failures = ?, pending = ?, last_failure = ?, "
                    "locked_until = ? WHERE key = ?",
                    (failures, pending, now, until, key),
                )
                if lock_s:
                    log.warning("console_lockout", key=key, failures=failures, lock_s=lock_s, stage=stage)
                else:
                    log.info("console_login_failed", key=key, failures=failures, stage=stage)

    def clear(self, *keys: str) -> None:
        """End a reserved attempt as a success: the keys start afresh."""
        with self.db.transaction(write=True) as tx:
            for key in keys:
                tx.execute("DELETE FROM console_attempts WHERE key = ?", (key,))

    def release(self, *keys: str) -> None:
        """End a reserved attempt that was never judged (an error while checking)."""
        with self.db.transaction(write=True) as tx:
            for key in sorted(set(keys)):
                tx.execute(
                    "UPDATE console_attempts SET pending = pending - 1 WHERE key = ? AND pending > 0", (key,)
                )

    def _rows_for_update(self, tx: Tx, keys: Sequence[str], now: float) -> dict[str, Row]:
        """The keys' rows, created if missing, locked until the transaction ends."""
        for key in keys:
            tx.execute(
                "INSERT INTO console_attempts (key, failures, pending, last_attempt, last_failure, "
                "locked_until) VALUES (?, 0, 0, ?, 0, 0) ON CONFLICT (key) DO NOTHING",
                (key, now),
            )
        # SQLite's BEGIN IMMEDIATE already holds the database's write lock.
        lock = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        marks = ", ".join("?" for _ in keys)
        found = tx.all(f"SELECT * FROM console_attempts WHERE key IN ({marks}) ORDER BY key{lock}", keys)
        return {row["key"]: row for row in found}


def _failures(row: Row, now: float) -> int:
    return 0 if now - row["last_failure"] > FORGET_AFTER_S else int(row["failures"])


def _pending(row: Row, now: float) -> int:
    return 0 if now - row["last_attempt"] > PENDING_TTL_S else int(row["pending"])


def _refusal(row: Row, now: float) -> Lock | None:
    if row["locked_until"] > now:
        return Lock(row["key"], int(row["locked_until"] - now) + 1)
    if _pending(row, now) >= _budget(_failures(row, now)):
        # Every unit of the budget is being checked right now: wait for their verdicts.
        return Lock(row["key"], 1)
    return None
