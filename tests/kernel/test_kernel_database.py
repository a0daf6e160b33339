"""The SQLite side of portway.database: writers of one process take turns, nesting is refused."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from portway.database import Database


def test_concurrent_writers_of_one_process_all_commit_and_a_nested_write_is_refused(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        db.create_tables(["CREATE TABLE IF NOT EXISTS n (id {id}, who TEXT NOT NULL)"])

        def write(who: str) -> None:
            for _ in range(50):
                with db.transaction(write=True) as tx:
                    tx.execute("INSERT INTO n (who) VALUES (?)", (who,))

        threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        with db.transaction() as tx:
            assert tx.scalar("SELECT COUNT(*) FROM n") == 200
        with (
            db.transaction(write=True),
            pytest.raises(RuntimeError, match="inside another"),
            db.transaction(write=True),
        ):
            pass
        with db.transaction(write=True) as tx:  # the refusal left the lock usable
            tx.execute("INSERT INTO n (who) VALUES ('after')")
    finally:
        db.close()
