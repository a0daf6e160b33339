"""The config store: items and a revision counter, on SQLite (WAL) by default or PostgreSQL by URL.

It persists items (connections and channels) as JSON with secrets already
encrypted; validation lives in :mod:`portway.catalog`. Every change bumps a
revision number that running servers compare with the one they applied. On
PostgreSQL the change also sends a notification in its transaction, so
servers sharing the store hear of it at once (:mod:`portway.changes`); on
SQLite they poll the revision.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from portway.database import Database, Row, Tx, UniqueViolation
from portway.errors import ConflictError, NotFoundError

# The NOTIFY channel every write announces itself on; portway.changes LISTENs on it.
# Here and not there: the CLI writes to the store without paying for the listener's structlog.
CHANGES_CHANNEL = "portway_config"


class Located(Protocol):
    """Where a store is: an :class:`~portway.environment.Environment`, without importing it."""

    @property
    def store_url(self) -> str: ...


TABLES = (
    """CREATE TABLE IF NOT EXISTS items (
        id {id},
        kind VARCHAR(32) NOT NULL,
        type VARCHAR(64) NOT NULL,
        name VARCHAR(200) NOT NULL,
        settings TEXT NOT NULL,
        pool TEXT NOT NULL,
        updated_at FLOAT NOT NULL,
        UNIQUE (kind, type, name)
    )""",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR(64) PRIMARY KEY, value INTEGER NOT NULL)",
)


@dataclass(frozen=True)
class StoredItem:
    """One stored connection or channel.

    From the store, ``settings`` holds encrypted secrets; from
    :class:`~portway.catalog.Catalog` views, masked ones.
    """

    kind: str
    type: str
    name: str
    settings: dict[str, Any]
    pool: dict[str, Any]
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "type": self.type,
            "name": self.name,
            "settings": self.settings,
            "pool": self.pool,
            "updated_at": self.updated_at,
        }


class Store:
    """Items by (kind, type, name), and the revision counter."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, env: Located) -> Store:
        """The store of an environment (anything with a ``store_url``)."""
        return cls.connect(env.store_url)

    @classmethod
    def connect(cls, url: str) -> Store:
        """Open the store at ``url``, creating its tables if missing."""
        db = Database.open(url)
        db.create_tables(TABLES)
        return cls(db)

    def close(self) -> None:
        self.db.close()

    def revision(self) -> int:
        with self.db.transaction() as tx:
            return int(tx.scalar("SELECT value FROM meta WHERE key = 'revision'") or 0)

    def list(self, kind: str, type_name: str | None = None) -> list[StoredItem]:
        sql = "SELECT * FROM items WHERE kind = ?"
        params: list[Any] = [kind]
        if type_name is not None:
            sql += " AND type = ?"
            params.append(type_name)
        with self.db.transaction() as tx:
            return [_item(row) for row in tx.all(sql + " ORDER BY type, name", params)]

    def get(self, kind: str, type_name: str, name: str) -> StoredItem:
        with self.db.transaction() as tx:
            return _item(self._row(tx, kind, type_name, name))

    def add(self, item: StoredItem) -> None:
        self.apply(creates=[item])

    def replace(self, item: StoredItem) -> None:
        self.apply(updates=[item])

    def delete(self, kind: str, type_name: str, name: str) -> None:
        self.apply(deletes=[(kind, type_name, name)])

    def apply(
        self,
        *,
        creates: Sequence[StoredItem] = (),
        updates: Sequence[StoredItem] = (),
        deletes: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Create, update and delete items in one transaction and one revision: all of it, or none."""
        try:
            with self.db.transaction(write=True) as tx:
                now = time.time()
                for item in creates:
                    tx.execute(
                        "INSERT INTO items (kind, type, name, settings, pool, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (item.kind, item.type, item.name, *_json(item), now),
                    )
                for item in updates:
                    self._row(tx, item.kind, item.type, item.name)
                    tx.execute(
                        "UPDATE items SET settings = ?, pool = ?, updated_at = ? "
                        "WHERE kind = ? AND type = ? AND name = ?",
                        (*_json(item), now, item.kind, item.type, item.name),
                    )
                for kind, type_name, name in deletes:
                    self._row(tx, kind, type_name, name)
                    tx.execute(
                        "DELETE FROM items WHERE kind = ? AND type = ? AND name = ?", (kind, type_name, name)
                    )
                bump_revision(tx, self.db.dialect)
        except UniqueViolation:  # a create whose name is taken (by another writer, for a batch)
            if len(creates) == 1:
                raise ConflictError(f"{creates[0].type} {creates[0].kind}", creates[0].name) from None
            raise ConflictError("connection or channel", ", ".join(i.name for i in creates)) from None

    def _row(self, tx: Tx, kind: str, type_name: str, name: str) -> Row:
        row = tx.one("SELECT * FROM items WHERE kind = ? AND type = ? AND name = ?", (kind, type_name, name))
        if row is None:
            raise NotFoundError(f"{type_name} {kind}", name, f"see `portway {_cli_word(kind)} list`")
        return row


def bump_revision(tx: Tx, dialect: str) -> None:
    """Count one more config change; on PostgreSQL, tell the other servers when it commits."""
    if not tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'"):
        tx.execute("INSERT INTO meta (key, value) VALUES ('revision', 1)")
    if dialect == "postgresql":
        # Delivered on commit, and only if the transaction commits.
        tx.execute(f"NOTIFY {CHANGES_CHANNEL}")


def _json(item: StoredItem) -> tuple[str, str]:
    return json.dumps(item.settings), json.dumps(item.pool)


def _cli_word(kind: str) -> str:
    return {"connection": "conn"}.get(kind, kind)


def _item(row: Row) -> StoredItem:
    return StoredItem(
        kind=row["kind"],
        type=row["type"],
        name=row["name"],
        settings=json.loads(row["settings"]),
        pool=json.loads(row["pool"] or "{}"),
        updated_at=row["updated_at"],
    )
