"""The cluster's servers, one row each in the shared store, renewed every few seconds.

Each server writes its id, host, pid, HTTP address, start time, the code
revision it has deployed and its failed files every :data:`BEAT_S` (on the
database's clock, so servers' clocks need not agree). ``portway cluster
status``, ``GET /admin/api/cluster`` and the console read them with
:func:`cluster_view`, which flags a server that is behind the store's code
revision, failed a file, or stopped heart-beating. A server that stops
cleanly deletes its row; rows silent for :data:`FORGET_S` are deleted by
whichever server beats next.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from portway.database import Database
from portway.leases import DB_NOW

log = structlog.get_logger("portway.cluster")

BEAT_S = 2.0
SILENT_S = 10.0  # no beat for this long: flagged
FORGET_S = 3600.0  # no beat for this long: the row is deleted

TABLE = """CREATE TABLE IF NOT EXISTS servers (
    id VARCHAR(200) PRIMARY KEY,
    host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL,
    http VARCHAR(255) NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    beat_at DOUBLE PRECISION NOT NULL,
    code_revision BIGINT NOT NULL,
    deploy_errors TEXT NOT NULL
)"""


class Heartbeat:
    """Writes this server's row every :data:`BEAT_S` on a daemon thread; ``stop`` deletes it."""

    def __init__(
        self, db: Database, server_id: str, http: str, state: Callable[[], tuple[int, list[dict[str, Any]]]]
    ) -> None:
        self._db = db
        self.server_id = server_id
        self._http = http
        self._state = state  # () -> (code revision deployed, failed files)
        self._started = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="portway-heartbeat", daemon=True)
        self._failing = False
        db.create_tables([TABLE])

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and delete this server's row; returns once the thread is gone."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(BEAT_S + 15)
        try:
            with self._db.transaction() as tx:
                tx.execute("DELETE FROM servers WHERE id = ?", (self.server_id,))
        except Exception as exc:  # the row ages out instead
            log.warning("heartbeat_delete_failed", error=str(exc))

    def beat(self) -> None:
        """Write the row now (also after each deploy, so status is current at once)."""
        revision, errors = self._state()
        row = (
            self.server_id,
            socket.gethostname(),
            os.getpid(),
            self._http,
            self._started,
            revision,
            json.dumps(errors),
        )
        try:
            with self._db.transaction() as tx:
                if not tx.execute(
                    f"UPDATE servers SET beat_at = {DB_NOW}, code_revision = ?, deploy_errors = ? "
                    "WHERE id = ?",
                    (revision, row[6], self.server_id),
                ):
                    tx.execute(
                        "INSERT INTO servers (id, host, pid, http, started_at, beat_at, code_revision, "
                        f"deploy_errors) VALUES (?, ?, ?, ?, ?, {DB_NOW}, ?, ?)",
                        row,
                    )
                tx.execute(f"DELETE FROM servers WHERE beat_at < {DB_NOW} - ?", (FORGET_S,))
        except Exception as exc:  # logged once per outage; serving goes on
            if not self._failing:
                log.warning("heartbeat_failed", error=str(exc))
            self._failing = True
            return
        if self._failing:
            log.info("heartbeat_back")
            self._failing = False

    def _run(self) -> None:
        while not self._stop.wait(BEAT_S):
            self.beat()


def cluster_view(db: Database) -> dict[str, Any]:
    """Every server's row, with flags, and the store's code revision; JSON-able."""
    with db.transaction() as tx:
        tx.execute(TABLE)
        now = float(tx.scalar(f"SELECT {DB_NOW}"))
        store_revision = int(tx.scalar("SELECT value FROM meta WHERE key = 'code_revision'") or 0)
        rows = tx.all("SELECT * FROM servers ORDER BY started_at, id")
        leases = (
            tx.all(f"SELECT name, holder FROM leases WHERE expires_at > {DB_NOW}") if _has_leases(tx) else []
        )
    servers = []
    for row in rows:
        errors = json.loads(row["deploy_errors"])
        silent = now - row["beat_at"]
        flags = []
        if row["code_revision"] < store_revision:
            flags.append("behind")
        if errors:
            flags.append("failed")
        if silent > SILENT_S:
            flags.append("silent")
        servers.append(
            {
                "id": row["id"],
                "host": row["host"],
                "pid": row["pid"],
                "http": row["http"],
                "started_at": row["started_at"],
                "last_beat_s": round(silent, 1),
                "code_revision": row["code_revision"],
                "deploy_errors": errors,
                "leases": sorted(lease["name"] for lease in leases if lease["holder"] == row["id"]),
                "flags": flags,
                "ok": not flags,
            }
        )
    return {"code_revision": store_revision, "servers": servers}


def _has_leases(tx: Any) -> bool:
    return bool(tx.scalar("SELECT to_regclass('leases') IS NOT NULL"))
