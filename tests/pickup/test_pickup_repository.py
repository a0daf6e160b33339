"""The idempotent repository on a real PostgreSQL store: compare-and-set claims, live and dead owners."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portway import servers
from portway.database import Database
from portway.pickup.repository import PickupRepository


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database.open(pg_url)
    yield database
    database.close()


def beating(db: Database, server: str, seconds_ago: float) -> None:
    db.create_tables([servers.TABLE])
    with db.transaction(write=True) as tx:
        tx.execute(
            "INSERT INTO servers (id, host, pid, http, started_at, beat_at, code_revision, deploy_errors) "
            "VALUES (?, 'h', 1, '', 0, extract(epoch from clock_timestamp()) - ?, 0, '[]')",
            (server, seconds_ago),
        )


def test_a_claim_is_won_once_and_done_is_kept(db: Database) -> None:
    a, b = PickupRepository(db, "in", "a"), PickupRepository(db, "in", "b")
    assert a.take_many([("k1", None), ("k2", None)]) == {"k1", "k2"}
    assert b.take("k1", None) is False  # inserted already
    seen = b.look("k1")
    assert seen is not None and seen.state == "taken" and seen.owner == "a"
    a.done_many(["k1"])
    assert b.take("k1", seen) is False  # the row moved on since b looked
    assert b.look_many(["k1", "k2", "k3"])["k1"].state == "done"
    a.failed("k2", "boom")
    record = a.look("k2")
    assert record is not None and record.state == "failed" and record.attempts == 1
    assert a.counts() == {"done": 1, "failed": 1}


def test_a_live_owner_keeps_its_rows_a_silent_one_does_not(db: Database) -> None:
    repository = PickupRepository(db, "in", "me")
    assert repository.owner_alive("nobody") is False  # no servers table yet
    beating(db, "alive", 1)
    beating(db, "dead", 60)
    assert repository.owner_alive("alive") is True
    assert repository.owner_alive("dead") is False
    assert repository.owner_alive("unknown") is False


def test_new_keys_are_taken_in_one_statement_and_known_ones_left_to_their_rows(db: Database) -> None:
    a, b = PickupRepository(db, "in", "a"), PickupRepository(db, "in", "b")
    assert a.take_new(["n1", "n2"]) == {"n1", "n2"}
    assert b.take_new(["n1", "n3"]) == {"n3"}  # n1 has a row: b must look at it and compare-and-set
    a.done_many(["n1", "n2"])
    assert {k: r.state for k, r in b.look_many(["n1", "n2", "n3"]).items()} == {
        "n1": "done",
        "n2": "done",
        "n3": "taken",
    }
    assert a.take_new([]) == set()


def test_new_keys_on_sqlite_too(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        a, b = PickupRepository(db, "in", "a"), PickupRepository(db, "in", "b")
        assert a.take_new(["n1", "n2"]) == {"n1", "n2"}
        assert b.take_new(["n1", "n3", "n2", "n4"]) == {"n3", "n4"}
        assert a.take_new(["n1"]) == set()  # its own row: taken already, not again
    finally:
        db.close()
