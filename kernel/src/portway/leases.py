"""Named leases: work that only one server of a cluster may do at a time (polling, schedules).

A channel asks its :class:`~portway.declarations.ChannelHost` for
``host.lease("file:inbox")`` and checks ``lease.held()`` before each poll.

- On SQLite there is one server per store: every lease is held at once.
- On PostgreSQL a lease is a row (``leases``: name, holder, expiry) that its
  holder renews every :data:`RENEW_S` on a connection of its own. Expiry is
  reckoned on the database's clock, so servers' clocks need not agree. When
  the holder dies (``kill -9``) or loses the database, its row expires after
  :data:`TTL_S` and the next server to try takes it: takeover within
  ``TTL_S + RENEW_S`` (8 s). The holder stops believing it holds the lease
  :data:`MARGIN_S` before the row can expire, reckoned from when its last
  renewal was sent, so two servers never both think they hold it.

No advisory locks: they die with their connection, which PgBouncer-style
poolers and TCP half-open connections make hard to reason about; a row with
an expiry is visible in ``portway cluster status`` and survives nothing it
should not.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from portway.database import Database

log = structlog.get_logger("portway.leases")

TTL_S = 6.0  # how long a renewal holds the row
RENEW_S = 2.0  # how often the holder renews and the others try to take
MARGIN_S = 1.0  # the holder lets go this long before its row could expire

TABLE = """CREATE TABLE IF NOT EXISTS leases (
    name VARCHAR(200) PRIMARY KEY,
    holder VARCHAR(200) NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    taken_at DOUBLE PRECISION NOT NULL
)"""
# The database's clock, in epoch seconds: servers' own clocks need not agree.
DB_NOW = "extract(epoch from clock_timestamp())"
# Take a free or expired lease, or renew our own, in one statement: the row lock decides races.
_CLAIM = f"""INSERT INTO leases (name, holder, expires_at, taken_at) VALUES (%s, %s, {DB_NOW} + %s, {DB_NOW})
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
    taken_at = CASE WHEN leases.holder = EXCLUDED.holder THEN leases.taken_at ELSE EXCLUDED.taken_at END
WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < {DB_NOW}
RETURNING holder"""


def server_id() -> str:
    """This process's name in the cluster: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """One named lease, as one server sees it."""

    def __init__(self, name: str, leases: Leases) -> None:
        self.name = name
        self._leases = leases
        self._until = 0.0  # monotonic time until which we hold it; 0 when not held
        self.released = False

    def held(self) -> bool:
        """Whether this server holds the lease now; cheap, call it before each unit of work."""
        return not self.released and time.monotonic() < self._until

    def release(self) -> None:
        """Give the lease up (a channel that stops); another server can take it at once."""
        if not self.released:
            self.released = True
            self._leases.drop(self)

    def _granted(self, sent_at: float) -> None:
        was = self.held()
        self._until = sent_at + TTL_S - MARGIN_S
        if not was:
            log.info("lease_taken", lease=self.name, holder=self._leases.holder)

    def _refused(self) -> None:
        if self.held():
            log.warning("lease_lost", lease=self.name, holder=self._leases.holder)
        self._until = 0.0


class AlwaysHeld(Lease):
    """A lease on a single-server store (SQLite): nobody else can want it."""

    def held(self) -> bool:
        return not self.released


class Leases:
    """The leases this server wants, kept by one renewing thread (PostgreSQL) or always held (SQLite)."""

    def __init__(self, db: Database, holder: str) -> None:
        self.holder = holder
        self._db = db
        self._wanted: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self._failing = False

    def take(self, name: str) -> Lease:
        """The lease named ``name``, wanted from now on; held once the next claim succeeds."""
        if not name or len(name) > 200:
            raise ValueError("a lease name is 1 to 200 characters")
        if self._db.dialect != "postgresql":
            return AlwaysHeld(name, self)
        with self._lock:
            if name in self._wanted:
                raise ValueError(f"lease {name!r} is already taken by this server; release it first")
            lease = self._wanted[name] = Lease(name, self)
            if self._thread is None:
                self._db.create_tables([TABLE])
                self._thread = threading.Thread(target=self._run, name="portway-leases", daemon=True)
                self._thread.start()
        self._wake.set()
        return lease

    def drop(self, lease: Lease) -> None:
        with self._lock:
            if self._wanted.get(lease.name) is not lease:
                return
            del self._wanted[lease.name]
        if self._db.dialect == "postgresql":
            try:
                with self._db.transaction() as tx:
                    tx.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (lease.name, self.holder))
            except Exception as exc:  # it expires by itself
                log.warning("lease_release_failed", lease=lease.name, error=str(exc))

    def holder_of(self, name: str) -> str | None:
        """Which server holds lease ``name`` now (this one on SQLite); ``None`` when nobody does."""
        if self._db.dialect != "postgresql":
            return self.holder
        with self._lock:
            if name in self._wanted and self._wanted[name].held():
                return self.holder
        try:
            with self._db.transaction() as tx:
                found = tx.scalar(
                    f"SELECT holder FROM leases WHERE name = ? AND expires_at >= {DB_NOW}", (name,)
                )
        except Exception as exc:  # no table yet, or no store: unknown
            log.debug("lease_holder_unknown", lease=name, error=str(exc))
            return None
        return None if found is None else str(found)

    def held(self) -> list[str]:
        """Names of the leases this server holds now."""
        with self._lock:
            return sorted(name for name, lease in self._wanted.items() if lease.held())

    def close(self) -> None:
        """Stop renewing and give every lease up; returns once the thread is gone."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=RENEW_S + 15)
        for lease in list(self._wanted.values()):
            lease.release()
        self._disconnect()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._claim_all()
            self._wake.wait(RENEW_S)
            self._wake.clear()

    def _claim_all(self) -> None:
        with self._lock:
            wanted = list(self._wanted.values())
        for lease in wanted:
            sent_at = time.monotonic()
            try:
                granted = self._claim(lease.name)
            except Exception as exc:  # the database went away: we hold nothing until it is back
                self._disconnect()
                if not self._failing:
                    log.warning("lease_renew_failed", error=str(exc), holder=self.holder)
                self._failing = True
                for each in wanted:
                    each._refused()
                return
            if self._failing:
                log.info("lease_store_back", holder=self.holder)
                self._failing = False
            if lease.released:
                continue
            if granted:
                lease._granted(sent_at)
            else:
                lease._refused()

    def _claim(self, name: str) -> bool:
        if self._conn is None or self._conn.closed:
            import psycopg

            self._conn = psycopg.connect(self._db.conninfo, autocommit=True, connect_timeout=5)
            # A statement that hangs on a dead server must not outlive the lease it renews.
            self._conn.execute(f"SET statement_timeout = {int((TTL_S - MARGIN_S) * 500)}")
        row = self._conn.execute(_CLAIM, (name, self.holder, TTL_S)).fetchone()
        return row is not None

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken
                return
