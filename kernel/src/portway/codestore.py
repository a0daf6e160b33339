"""Service code in the shared store (PostgreSQL): what every server of a cluster deploys.

Each published file is a row of ``code_files``: its path relative to a
pickup root, its bytes, their SHA-256, the code revision that wrote it, and
who published it and when. Every publish bumps ``code_revision`` and sends
the same NOTIFY as a config change, in its transaction, so servers hear of
it on commit (:mod:`portway.changes`). Publishers serialise on the
revision row: of two publishers of one path, the later commit wins whole.
``code_history`` keeps earlier versions of each path for a cluster-wide
rollback.

SQLite stores stay single-server: this module refuses them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from portway.database import Database, Tx
from portway.errors import ConfigError
from portway.store import CHANGES_CHANNEL

HISTORY = 10  # earlier versions kept per path

TABLES = (
    """CREATE TABLE IF NOT EXISTS code_files (
        path VARCHAR(500) PRIMARY KEY,
        content {blob} NOT NULL,
        digest VARCHAR(64) NOT NULL,
        size INTEGER NOT NULL,
        revision BIGINT NOT NULL,
        published_by VARCHAR(200) NOT NULL,
        published_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS code_history (
        id {id},
        path VARCHAR(500) NOT NULL,
        content {blob},
        digest VARCHAR(64) NOT NULL,
        revision BIGINT NOT NULL,
        published_by VARCHAR(200) NOT NULL,
        published_at DOUBLE PRECISION NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS code_history_path ON code_history (path, id)",
)
NEEDS_POSTGRESQL = (
    "publishing service code to the store needs a PostgreSQL store, which servers share; "
    'this environment\'s store is SQLite (one server). Set [store] url = "postgresql://...", '
    "or drop files into the pickup folder instead"
)


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class CodeFile:
    """One published file, without its bytes."""

    path: str
    digest: str
    size: int
    revision: int
    published_by: str
    published_at: float


class CodeStore:
    """Published service files on a PostgreSQL store."""

    def __init__(self, db: Database) -> None:
        if db.dialect != "postgresql":
            raise ConfigError("[store] url", NEEDS_POSTGRESQL)
        self.db = db
        db.create_tables(TABLES)
        with db.transaction() as tx:  # so the first two publishers cannot both insert it
            tx.execute("INSERT INTO meta (key, value) VALUES ('code_revision', 0) ON CONFLICT DO NOTHING")

    def revision(self) -> int:
        with self.db.transaction() as tx:
            return _revision(tx)

    def manifest(self) -> tuple[int, dict[str, CodeFile]]:
        """The code revision and every published file, read in one transaction."""
        with self.db.transaction() as tx:
            rows = tx.all(
                "SELECT path, digest, size, revision, published_by, published_at "
                "FROM code_files ORDER BY path"
            )
            return _revision(tx), {row["path"]: CodeFile(**row) for row in rows}

    def contents(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The bytes of ``paths`` (those still published)."""
        wanted = list(paths)
        found: dict[str, bytes] = {}
        with self.db.transaction() as tx:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for row in tx.all(f"SELECT path, content FROM code_files WHERE path IN ({marks})", chunk):
                    found[row["path"]] = bytes(row["content"])
        return found

    def folder(self, folder: str) -> dict[str, bytes]:
        """The files directly in ``folder`` ("" for the root): the helpers a file there may import."""
        prefix = f"{folder}/" if folder else ""
        pattern = _like(prefix) + "%"
        with self.db.transaction() as tx:
            rows = tx.all("SELECT path, content FROM code_files WHERE path LIKE ? ESCAPE '\\'", (pattern,))
        return {r["path"]: bytes(r["content"]) for r in rows if "/" not in r["path"][len(prefix) :]}

    def write(self, files: Mapping[str, bytes], deletes: Iterable[str], publisher: str) -> int:
        """Store ``files`` and delete ``deletes`` in one transaction; return the new code revision."""
        deletes = list(deletes)
        with self.db.transaction(write=True) as tx:
            revision = _bump(tx)  # first: the row lock orders concurrent publishers
            now = time.time()
            for path, content in files.items():
                digest = digest_of(content)
                args = (content, digest, len(content), revision, publisher, now)
                if not tx.execute(
                    "UPDATE code_files SET content = ?, digest = ?, size = ?, revision = ?, "
                    "published_by = ?, published_at = ? WHERE path = ?",
                    (*args, path),
                ):
                    tx.execute(
                        "INSERT INTO code_files (content, digest, size, revision, published_by, "
                        "published_at, path) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (*args, path),
                    )
                _remember(tx, path, content, digest, revision, publisher, now)
            for path in deletes:
                tx.execute("DELETE FROM code_files WHERE path = ?", (path,))
                _remember(tx, path, None, "", revision, publisher, now)
            tx.execute(f"NOTIFY {CHANGES_CHANNEL}")  # delivered on commit, only if it commits
        return revision

    def previous(self, path: str) -> bytes | None:
        """The content ``path`` had before its current version, or None when there is none."""
        with self.db.transaction() as tx:
            current = tx.scalar("SELECT digest FROM code_files WHERE path = ?", (path,))
            rows = tx.all("SELECT content, digest FROM code_history WHERE path = ? ORDER BY id DESC", (path,))
        for row in rows:
            if row["digest"] and row["digest"] != current and row["content"] is not None:
                return bytes(row["content"])
        return None


def _revision(tx: Tx) -> int:
    return int(tx.scalar("SELECT value FROM meta WHERE key = 'code_revision'") or 0)


def _bump(tx: Tx) -> int:
    tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'code_revision'")
    return _revision(tx)


def _remember(
    tx: Tx, path: str, content: bytes | None, digest: str, revision: int, publisher: str, now: float
) -> None:
    tx.execute(
        "INSERT INTO code_history (path, content, digest, revision, published_by, published_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (path, content, digest, revision, publisher, now),
    )
    tx.execute(
        "DELETE FROM code_history WHERE path = ? AND id NOT IN "
        "(SELECT id FROM code_history WHERE path = ? ORDER BY id DESC LIMIT ?)",
        (path, path, HISTORY + 1),
    )


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
