"""The SQL database behind the config store: stdlib ``sqlite3`` or ``psycopg``, no ORM.

One small layer so the rest of the kernel writes each statement once, with
``?`` placeholders, for both engines:

- SQLite (the default, ``sqlite:///ENV/config.db``): one connection per
  thread, WAL journal, explicit ``BEGIN IMMEDIATE`` for writes so a
  read-modify-write cannot interleave with another writer.
- PostgreSQL (``postgresql://...``, ``postgresql+psycopg://...`` also taken):
  a small bounded pool of psycopg connections, imported only when used.

SQLAlchemy used to sit here; importing it cost about half a second of every
server start and CLI command, for a dozen statements.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from portway.errors import ConfigError

Dialect = Literal["sqlite", "postgresql"]
Row = dict[str, Any]
POOL_SIZE = 8  # PostgreSQL connections per process; enough for the admin and channel threads


class UniqueViolation(Exception):
    """An insert or update hit a primary key or UNIQUE constraint."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached or refused the statement for an operational reason."""


class Tx:
    """One open transaction (or autocommit reads): run statements, fetch rows."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self._conn = conn
        self._dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        return int(self._run(sql, params).rowcount)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self._run(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._run(sql, params).fetchone()
        return None if row is None else row[0]

    def _run(self, sql: str, params: Sequence[Any]) -> Any:
        if self._dialect == "postgresql":
            sql = sql.replace("%", "%%").replace("?", "%s")
        try:
            return self._conn.execute(sql, tuple(params))
        except Exception as exc:
            raise _translated(exc) from exc


class Database:
    """A SQLite file or a PostgreSQL database, opened from a store URL."""

    def __init__(self, url: str, dialect: Dialect, target: str) -> None:
        self.url = url
        self.dialect = dialect
        self._target = target  # SQLite: the file path; PostgreSQL: a libpq URI
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Any] = []
        self._idle: list[Any] = []
        self._free = threading.Semaphore(POOL_SIZE)
        # SQLite has one writer at a time; its busy handler makes a waiting writer sleep in steps
        # of milliseconds. Writers of this process queue here instead and start the moment it is free.
        self._writer = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, url: str) -> Database:
        """Open ``url``; raise :class:`ConfigError` naming ``[store] url`` when it cannot be used."""
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        base = scheme.split("+", 1)[0]
        if base == "sqlite":
            path = url.split("://", 1)[1]
            path = path[1:] if path.startswith("/") else path
            database = cls(url, "sqlite", path or ":memory:")
        elif base in ("postgresql", "postgres"):
            _require_psycopg()
            parts = urlsplit(url)
            database = cls(url, "postgresql", urlunsplit(("postgresql", *parts[1:])))
        else:
            raise ConfigError(
                "[store] url", f"cannot use {redacted(url)!r}: give sqlite:///PATH or postgresql://..."
            )
        try:
            with database.transaction() as tx:
                tx.scalar("SELECT 1")
        except DatabaseUnavailable as exc:
            database.close()
            raise ConfigError("[store] url", f"cannot open the config store {redacted(url)}: {exc}") from None
        return database

    @property
    def address(self) -> str:
        """The URL with any password hidden: safe for logs and errors."""
        return redacted(self.url)

    @property
    def conninfo(self) -> str:
        """The libpq URI (PostgreSQL only), for connections of its own such as LISTEN."""
        return self._target

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Tx]:
        """A transaction; ``write=True`` takes SQLite's write lock at once (``BEGIN IMMEDIATE``).

        Commits when the block ends, rolls back when it raises.
        """
        serial = write and self.dialect == "sqlite"
        if serial and getattr(self._local, "writing", False):
            # The writer lock is not reentrant: say so instead of waiting on ourselves for ever.
            raise RuntimeError("a write transaction inside another on the same thread")
        with self._connection() as conn, self._writing() if serial else contextlib.nullcontext():
            tx = Tx(conn, self.dialect)
            tx.execute("BEGIN IMMEDIATE" if serial else "BEGIN")
            try:
                yield tx
            except BaseException:
                self._rollback(conn)
                raise
            tx.execute("COMMIT")

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._writer:
            self._local.writing = True
            try:
                yield
            finally:
                self._local.writing = False

    def create_tables(self, ddl: Sequence[str]) -> None:
        """Run ``CREATE TABLE IF NOT EXISTS`` statements; types are written for both engines."""
        with self.transaction(write=True) as tx:
            for statement in ddl:
                tx.execute(self.ddl(statement))

    def ddl(self, statement: str) -> str:
        """One DDL statement in this dialect: ``{id}`` is an auto-increment key, ``{blob}`` bytes."""
        if self.dialect == "postgresql":
            return statement.format(id="BIGSERIAL PRIMARY KEY", blob="BYTEA")
        return statement.format(id="INTEGER PRIMARY KEY AUTOINCREMENT", blob="BLOB")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all, self._idle = self._all, [], []
        for conn in conns:
            try:
                conn.close()
            except Exception:  # closing a broken connection can fail; it is gone either way
                continue

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        if self.dialect == "sqlite":
            yield self._sqlite()
            return
        with self._pooled() as conn:
            yield conn

    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self._target, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA busy_timeout=10000")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise DatabaseUnavailable(str(exc)) from None
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _pooled(self) -> Iterator[Any]:
        self._free.acquire()
        conn = None
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect_postgresql()
            yield conn
        except BaseException:
            if conn is not None and conn.closed:
                self._forget(conn)
                conn = None
            raise
        finally:
            if conn is not None:
                self._give_back(conn)
            self._free.release()

    def _connect_postgresql(self) -> Any:
        import psycopg

        try:
            conn = psycopg.connect(self._target, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(_first_line(exc)) from None
        with self._lock:
            self._all.append(conn)
        return conn

    def _give_back(self, conn: Any) -> None:
        if conn.closed or self._closed:
            self._forget(conn)
            return
        with self._lock:
            self._idle.append(conn)

    def _forget(self, conn: Any) -> None:
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        try:
            conn.close()
        except Exception:  # already broken
            return

    def _rollback(self, conn: Any) -> None:
        try:
            conn.execute("ROLLBACK")
        except Exception:  # a broken connection rolls back by going away
            return


def _require_psycopg() -> None:
    from importlib.util import find_spec

    if find_spec("psycopg") is None:  # found, not imported: opening the store imports it anyway
        raise ConfigError(
            "[store] url",
            "a PostgreSQL store needs the psycopg driver, which is not installed: "
            "pip install 'portway[postgresql]'",
        )


def redacted(url: str) -> str:
    """``url`` with the password of its user part replaced by ``***``."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit((parts.scheme, f"{user}:***@{netloc[1]}", *parts[2:]))


def _translated(exc: Exception) -> Exception:
    """sqlite3's and psycopg's errors as this module's two, by class name (psycopg stays unimported)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return UniqueViolation(str(exc))
    if isinstance(exc, sqlite3.OperationalError):
        return DatabaseUnavailable(str(exc))
    names = {cls.__name__ for cls in type(exc).__mro__ if cls.__module__.startswith("psycopg")}
    if "IntegrityError" in names:
        return UniqueViolation(_first_line(exc))
    if names & {"OperationalError", "InterfaceError"}:
        return DatabaseUnavailable(_first_line(exc))
    return exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
