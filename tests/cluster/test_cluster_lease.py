"""Named leases on a real PostgreSQL store: one holder at a time, taken over when it dies or is cut off."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from portway.database import Database
from portway.leases import RENEW_S, TTL_S, Leases

TAKEOVER_S = 10.0  # what the docs promise


def _until(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database.open(pg_url)
    yield database
    database.close()


def test_one_holder_at_a_time_and_release_hands_over(db: Database) -> None:
    first, second = Leases(db, "one"), Leases(db, "two")
    try:
        a = first.take("file:inbox")
        assert _until(a.held, 5)
        b = second.take("file:inbox")
        time.sleep(RENEW_S * 1.5)  # the second has tried at least once
        assert a.held() and not b.held()
        a.release()
        assert _until(b.held, RENEW_S + 2)
        assert not a.held()
    finally:
        first.close()
        second.close()


def test_sqlite_leases_are_held_at_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database.open(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        lease = Leases(database, "solo").take("file:inbox")
        assert lease.held()
        lease.release()
        assert not lease.held()
    finally:
        database.close()


def test_a_name_is_wanted_once_per_server(db: Database) -> None:
    leases = Leases(db, "one")
    try:
        leases.take("x")
        with pytest.raises(ValueError, match="already taken"):
            leases.take("x")
    finally:
        leases.close()


HOLDER = """
import sys, time
from portway.database import Database
from portway.leases import Leases
lease = Leases(Database.open(sys.argv[1]), "doomed").take("file:inbox")
while not lease.held():
    time.sleep(0.05)
print("held", flush=True)
time.sleep(600)
"""


def test_kill_9_of_the_holder_moves_the_lease_within_10_s(pg_url: str, db: Database) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, pg_url], stdout=subprocess.PIPE, text=True)
    other = Leases(db, "survivor")
    try:
        assert holder.stdout is not None
        # structlog's default prints its events to stdout too
        assert any(line.strip() == "held" for line in iter(holder.stdout.readline, ""))
        lease = other.take("file:inbox")
        time.sleep(RENEW_S)
        assert not lease.held()
        holder.kill()
        holder.wait()
        killed = time.monotonic()
        assert _until(lease.held, TAKEOVER_S + 2)
        assert time.monotonic() - killed < TAKEOVER_S
    finally:
        holder.kill()
        other.close()


class Forwarder:
    """A TCP relay to PostgreSQL that can be cut, as a network partition would."""

    def __init__(self, port: int) -> None:
        self._target = port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self._cut:  # a blocked accept() outlives close() of its socket on Linux
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self._target))
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            return

    def cut(self) -> None:
        self._cut = True
        self._server.close()
        for each in self._sockets:
            try:
                each.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue
            each.close()


def test_a_holder_cut_off_from_the_database_lets_go_before_another_takes_over(
    pg_url: str, db: Database
) -> None:
    parts = urlsplit(pg_url)
    relay = Forwarder(parts.port or 5432)
    relayed = urlunsplit((parts.scheme, f"{parts.username}@127.0.0.1:{relay.port}", *parts[2:]))
    cut_off_db = Database.open(relayed)
    cut_off, other = Leases(cut_off_db, "cut-off"), Leases(db, "other")
    try:
        mine = cut_off.take("file:inbox")
        assert _until(mine.held, 5)
        theirs = other.take("file:inbox")
        relay.cut()
        cut_at = time.monotonic()
        assert _until(lambda: not mine.held(), TTL_S)
        let_go = time.monotonic()
        assert not theirs.held()  # never both
        assert _until(theirs.held, TAKEOVER_S + 2)
        assert time.monotonic() - cut_at < TAKEOVER_S
        assert time.monotonic() >= let_go
    finally:
        cut_off.close()
        other.close()
        cut_off_db.close()
