"""Login throttling per user and per client address, with growing lockouts.

``FREE_FAILURES`` failures in a row are allowed; each further one locks the
key for ``BASE_LOCK_S * 2**(n - FREE_FAILURES)`` seconds, up to
``MAX_LOCK_S``. A quiet ``FORGET_AFTER_S`` since the last failure forgets
the count. Counts live in the config store, so every server sharing it
(and a restart) sees the same lockouts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from sqlalchemy import Engine, delete, insert, select, update

from portway.console import schema

FREE_FAILURES = 4
BASE_LOCK_S = 30.0
MAX_LOCK_S = 3600.0
FORGET_AFTER_S = 3600.0

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


class Throttle:
    """The ``console_throttle`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        schema.create_tables(engine)

    def locked(self, *keys: str) -> Lock | None:
        """The first of ``keys`` that is locked now, if any."""
        now = time.time()
        with self.engine.connect() as conn:
            rows = conn.execute(select(schema.throttle).where(schema.throttle.c.key.in_(keys))).mappings()
            for row in rows:
                if row["locked_until"] > now:
                    return Lock(row["key"], int(row["locked_until"] - now) + 1)
        return None

    def fail(self, *keys: str, stage: str) -> None:
        """Count one failure against each key; lock the ones past the free allowance."""
        now = time.time()
        t = schema.throttle
        with self.engine.begin() as conn:
            for key in keys:
                row = conn.execute(select(t).where(t.c.key == key)).mappings().first()
                failures = (
                    1 if row is None or now - row["last_failure"] > FORGET_AFTER_S else row["failures"] + 1
                )
                lock_s = lock_seconds(failures)
                values = {"failures": failures, "last_failure": now, "locked_until": now + lock_s}
                if row is None:
                    conn.execute(insert(t).values(key=key, **values))
                else:
                    conn.execute(update(t).where(t.c.key == key).values(**values))
                if lock_s:
                    log.warning("console_lockout", key=key, failures=failures, lock_s=lock_s, stage=stage)
                else:
                    log.info("console_login_failed", key=key, failures=failures, stage=stage)

    def clear(self, *keys: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(schema.throttle).where(schema.throttle.c.key.in_(keys)))
