"""Config changes from other servers, pushed by PostgreSQL LISTEN/NOTIFY instead of polled.

Every store write on PostgreSQL sends ``NOTIFY portway_config`` inside its
transaction (see :mod:`portway.store`), so the notification
goes out only if the write commits. A :class:`ChangeListener` holds one
connection in ``LISTEN`` on a daemon thread and calls ``on_change`` for each
notification. It calls it once more after every (re)connect, because
notifications sent while it was not listening are lost. A dropped
connection is retried with a growing pause, and each failure is logged.

SQLite has no such thing: servers on SQLite keep polling the store revision.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from portway.store import CHANGES_CHANNEL

if TYPE_CHECKING:
    from portway.database import Database

log = structlog.get_logger("portway.changes")

CHANNEL = CHANGES_CHANNEL
# How long one wait for notifications lasts: the bound on how long stop() takes.
WAIT_S = 0.5
RETRY_S = (0.5, 1.0, 2.0, 5.0, 10.0)


class ChangeListener:
    """Calls ``on_change`` whenever another writer changed the config store (PostgreSQL only)."""

    def __init__(self, db: Database, on_change: Callable[[], object]) -> None:
        self._conninfo = db.conninfo
        self._address = db.address
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="portway-config-listen", daemon=True)
        self.listening = threading.Event()  # set while a LISTEN connection is up

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop listening; returns once the thread and its connection are gone."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=WAIT_S * 4 + 10)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except Exception as exc:  # any failure: log it and try again, never end the thread
                was_listening = self.listening.is_set()
                self.listening.clear()
                pause = RETRY_S[min(failures, len(RETRY_S) - 1)]
                failures += 1
                # Once per outage at warning: a store down for an hour must not fill the log.
                report = log.warning if failures == 1 else log.debug
                report("config_listen_failed", store=self._address, error=str(exc), retry_s=pause)
                if was_listening:
                    self._changed()  # wake the owner: it should poll until we listen again
                self._stop.wait(pause)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            log.info("config_listening", store=self._address, channel=CHANNEL)
            self._changed()  # whatever was written while we were not listening
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=WAIT_S, stop_after=1):
                    self._changed()
            self.listening.clear()

    def _changed(self) -> None:
        try:
            self._on_change()
        except Exception as exc:  # the callback's failure is its own; keep listening
            log.warning("config_change_callback_failed", error=str(exc))


def listener_for(db: Database, on_change: Callable[[], object]) -> ChangeListener | None:
    """A listener for the store's database, or None when it cannot notify (SQLite)."""
    if db.dialect != "postgresql":
        return None
    return ChangeListener(db, on_change)
