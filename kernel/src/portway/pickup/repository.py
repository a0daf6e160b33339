"""The idempotent repository: which files each pickup channel took, finished or failed, in the config store.

One row per (channel, key) in ``pickup_files``. A file is recorded
``taken`` before its service runs and ``done`` after, so a file already
done is never delivered again, even when the channel keeps it in place. A
row ``taken`` by another owner is taken again once that server is dead
(on PostgreSQL: its heartbeat in ``servers`` is silent; a server cut off
from the lease may still be running the service), so a kill -9 loses
nothing. Every change is a compare-and-set on what the
engine saw, so two servers racing for a row cannot both win.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from portway.database import Database, DatabaseUnavailable, Tx
from portway.declarations import PickupRecord

OWNER_SILENT_S = 10.0  # a server whose heartbeat is older is dead (portway.servers' SILENT_S)

TABLE = """CREATE TABLE IF NOT EXISTS pickup_files (
    channel VARCHAR(200) NOT NULL,
    key TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    attempts INTEGER NOT NULL,
    owner VARCHAR(200) NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    error TEXT,
    PRIMARY KEY (channel, key)
)"""


class PickupRepository:
    """The rows of one channel, written as server ``owner``."""

    def __init__(self, db: Database, channel: str, owner: str) -> None:
        self.db = db
        self.channel = channel
        self.owner = owner
        db.create_tables([TABLE])

    def look(self, key: str) -> PickupRecord | None:
        with self.db.transaction() as tx:
            row = tx.one(
                "SELECT state, attempts, owner, updated_at FROM pickup_files WHERE channel = ? AND key = ?",
                (self.channel, key),
            )
        return None if row is None else _record(row)

    def look_many(self, keys: list[str]) -> dict[str, PickupRecord]:
        """The rows of ``keys`` that exist, in one query per 500 keys."""
        found: dict[str, PickupRecord] = {}
        with self.db.transaction() as tx:
            for chunk in _chunks(keys, 500):
                rows = tx.all(
                    "SELECT key, state, attempts, owner, updated_at FROM pickup_files "
                    f"WHERE channel = ? AND key IN ({_marks(chunk)})",
                    (self.channel, *chunk),
                )
                found.update((row["key"], _record(row)) for row in rows)
        return found

    def take(self, key: str, seen: PickupRecord | None) -> bool:
        """Mark ``key`` taken by us, if its row is still what we ``seen``; whether we got it."""
        return bool(self.take_many([(key, seen)]))

    def take_many(self, wanted: list[tuple[str, PickupRecord | None]]) -> set[str]:
        """:meth:`take` for several keys in one transaction; the keys we got."""
        won: set[str] = set()
        if not wanted:
            return won
        with self.db.transaction(write=True) as tx:
            for key, seen in wanted:
                if self._take(tx, key, seen):
                    won.add(key)
        return won

    def take_new(self, keys: list[str]) -> set[str]:
        """Take the ``keys`` that have no row yet, in one statement per 200; the keys we got.

        The common case of a poll (files never seen) costs one insert and one
        commit; the keys left out have a row, to be looked at and taken by
        :meth:`take_many`.
        """
        won: set[str] = set()
        if not keys:
            return won
        now = time.time()
        with self.db.transaction(write=True) as tx:
            for chunk in _chunks(keys, 200):  # 4 values a row
                inserted = tx.execute(
                    "INSERT INTO pickup_files (channel, key, state, attempts, owner, updated_at) VALUES "
                    + ", ".join(["(?, ?, 'taken', 0, ?, ?)"] * len(chunk))
                    + " ON CONFLICT (channel, key) DO NOTHING",
                    [value for key in chunk for value in (self.channel, key, self.owner, now)],
                )
                if inserted == len(chunk):  # the usual case: no row existed, no need to ask which
                    won.update(chunk)
                    continue
                # Ours are the rows with this very insert's owner and time (RETURNING would say
                # so too, but costs every insert a fetched row).
                rows = tx.all(
                    "SELECT key FROM pickup_files WHERE channel = ? AND owner = ? AND updated_at = ? "
                    f"AND state = 'taken' AND key IN ({_marks(chunk)})",
                    (self.channel, self.owner, now, *chunk),
                )
                won.update(row["key"] for row in rows)
        return won

    def _take(self, tx: Tx, key: str, seen: PickupRecord | None) -> bool:
        now = time.time()
        if seen is None:
            sql = (
                "INSERT INTO pickup_files (channel, key, state, attempts, owner, updated_at) "
                "VALUES (?, ?, 'taken', 0, ?, ?) ON CONFLICT (channel, key) DO NOTHING"
            )
            return tx.execute(sql, (self.channel, key, self.owner, now)) == 1
        sql = (
            "UPDATE pickup_files SET state = 'taken', owner = ?, updated_at = ? "
            "WHERE channel = ? AND key = ? AND state = ? AND owner = ? AND updated_at = ?"
        )
        return (
            tx.execute(sql, (self.owner, now, self.channel, key, seen.state, seen.owner, seen.updated_at))
            == 1
        )

    def release(self, rows: list[tuple[str, PickupRecord | None]]) -> None:
        """Give back claims whose files never started: a new row goes, a retaken one is as it was.

        Only rows still ``taken`` by us change, so a file someone else took
        meanwhile keeps its row.
        """
        if not rows:
            return
        with self.db.transaction(write=True) as tx:
            for key, before in rows:
                mine = (self.channel, key, self.owner)
                if before is None:
                    tx.execute(
                        "DELETE FROM pickup_files WHERE channel = ? AND key = ? AND owner = ? "
                        "AND state = 'taken'",
                        mine,
                    )
                else:
                    tx.execute(
                        "UPDATE pickup_files SET state = ?, owner = ?, updated_at = ? "
                        "WHERE channel = ? AND key = ? AND owner = ? AND state = 'taken'",
                        (before.state, before.owner, before.updated_at, *mine),
                    )

    def done(self, key: str) -> None:
        self.done_many([key])

    def done_many(self, keys: list[str]) -> None:
        """Mark ``keys`` done in one transaction (a group commit), one statement per 500 keys."""
        now = time.time()
        with self.db.transaction(write=True) as tx:
            for chunk in _chunks(keys, 500):
                tx.execute(
                    "UPDATE pickup_files SET state = 'done', owner = ?, updated_at = ?, error = NULL "
                    f"WHERE channel = ? AND key IN ({_marks(chunk)})",
                    (self.owner, now, self.channel, *chunk),
                )

    def failed(self, key: str, error: str) -> None:
        """Count one more failed run of ``key``."""
        self._set(key, "failed", error[:2000], 1)

    def forget(self, key: str) -> None:
        """Drop the row (a failed file moved aside: put back, it is a new file)."""
        with self.db.transaction(write=True) as tx:
            tx.execute("DELETE FROM pickup_files WHERE channel = ? AND key = ?", (self.channel, key))

    def owner_alive(self, owner: str) -> bool:
        """Whether server ``owner`` still beats in the cluster's ``servers`` table (PostgreSQL).

        A row it took stays its own while it lives: a server that lost the lease
        (a cut-off, not a crash) may still be running that file's service. On
        SQLite one server uses the store: a row of another owner is from a dead one.
        """
        if self.db.dialect != "postgresql":
            return False
        try:
            with self.db.transaction() as tx:
                found = tx.scalar(
                    "SELECT 1 FROM servers WHERE id = ? "
                    "AND beat_at > extract(epoch from clock_timestamp()) - ?",
                    (owner, OWNER_SILENT_S),
                )
        except DatabaseUnavailable:
            raise
        except Exception:  # no servers table: no cluster heartbeats, nobody else alive to wait for
            return False
        return found is not None

    def counts(self) -> dict[str, int]:
        """Rows by state, for the channel's status."""
        with self.db.transaction() as tx:
            rows = tx.all(
                "SELECT state, COUNT(*) AS n FROM pickup_files WHERE channel = ? GROUP BY state",
                (self.channel,),
            )
        return {row["state"]: int(row["n"]) for row in rows}

    def _set(self, key: str, state: str, error: str, more: int) -> None:
        with self.db.transaction(write=True) as tx:
            tx.execute(
                "UPDATE pickup_files SET state = ?, attempts = attempts + ?, owner = ?, updated_at = ?, "
                "error = ? WHERE channel = ? AND key = ?",
                (state, more, self.owner, time.time(), error or None, self.channel, key),
            )


def _chunks(keys: list[str], size: int) -> Iterator[list[str]]:
    """``keys`` in lists of ``size``: one statement each, under both engines' parameter limits."""
    for first in range(0, len(keys), size):
        yield keys[first : first + size]


def _marks(keys: list[str]) -> str:
    return ", ".join("?" * len(keys))


def _record(row: dict[str, Any]) -> PickupRecord:
    return PickupRecord(row["state"], int(row["attempts"]), row["owner"], float(row["updated_at"]))
