"""The config store: SQLAlchemy 2 over SQLite (WAL) by default, PostgreSQL by URL.

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Engine,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from portway.changes import CHANNEL as CHANGES_CHANNEL
from portway.errors import ConfigError, ConflictError, NotFoundError

if TYPE_CHECKING:
    from portway.environment import Environment


class Base(DeclarativeBase):
    pass


class ItemRow(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("kind", "type", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[str] = mapped_column(Text)
    pool: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[float] = mapped_column(Float)


class MetaRow(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


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


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """Items by (kind, type, name), and the revision counter."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, env: Environment) -> Store:
        return cls.connect(env.store_url)

    @classmethod
    def connect(cls, url: str) -> Store:
        try:
            engine = create_engine(url, future=True)
        except Exception as exc:
            raise ConfigError("[store] url", f"cannot use {url!r}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            Base.metadata.create_all(engine)
        except OperationalError as exc:
            raise ConfigError("[store] url", f"cannot open the config store: {exc.orig}") from exc
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session

    def revision(self) -> int:
        with Session(self.engine) as session:
            row = session.get(MetaRow, "revision")
            return row.value if row else 0

    def list(self, kind: str, type_name: str | None = None) -> list[StoredItem]:
        query = select(ItemRow).where(ItemRow.kind == kind)
        if type_name is not None:
            query = query.where(ItemRow.type == type_name)
        with Session(self.engine) as session:
            rows = session.scalars(query.order_by(ItemRow.type, ItemRow.name)).all()
            return [_item(row) for row in rows]

    def get(self, kind: str, type_name: str, name: str) -> StoredItem:
        with Session(self.engine) as session:
            row = self._row(session, kind, type_name, name)
            return _item(row)

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
            with self.session() as session:
                now = time.time()
                for item in creates:
                    session.add(_new_row(item, now))
                for item in updates:
                    _update_row(self._row(session, item.kind, item.type, item.name), item, now)
                for kind, type_name, name in deletes:
                    session.delete(self._row(session, kind, type_name, name))
                self._bump(session)
        except IntegrityError:  # a create whose name is taken (by another writer, for a batch)
            if len(creates) == 1:
                raise ConflictError(f"{creates[0].type} {creates[0].kind}", creates[0].name) from None
            raise ConflictError("connection or channel", ", ".join(i.name for i in creates)) from None

    def _row(self, session: Session, kind: str, type_name: str, name: str) -> ItemRow:
        row = session.scalars(
            select(ItemRow).where(ItemRow.kind == kind, ItemRow.type == type_name, ItemRow.name == name)
        ).first()
        if row is None:
            raise NotFoundError(f"{type_name} {kind}", name, f"see `portway {_cli_word(kind)} list`")
        return row

    def _bump(self, session: Session) -> None:
        updated = session.execute(
            update(MetaRow).where(MetaRow.key == "revision").values(value=MetaRow.value + 1)
        )
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            session.add(MetaRow(key="revision", value=1))
        if self.engine.dialect.name == "postgresql":
            # Delivered on commit, and only if the transaction commits.
            session.execute(text(f"NOTIFY {CHANGES_CHANNEL}"))


def _new_row(item: StoredItem, now: float) -> ItemRow:
    return ItemRow(
        kind=item.kind,
        type=item.type,
        name=item.name,
        settings=json.dumps(item.settings),
        pool=json.dumps(item.pool),
        updated_at=now,
    )


def _update_row(row: ItemRow, item: StoredItem, now: float) -> None:
    row.settings = json.dumps(item.settings)
    row.pool = json.dumps(item.pool)
    row.updated_at = now


def _cli_word(kind: str) -> str:
    return {"connection": "conn"}.get(kind, kind)


def _item(row: ItemRow) -> StoredItem:
    return StoredItem(
        kind=row.kind,
        type=row.type,
        name=row.name,
        settings=json.loads(row.settings),
        pool=json.loads(row.pool or "{}"),
        updated_at=row.updated_at,
    )
