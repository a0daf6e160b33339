"""A throwaway PostgreSQL cluster (Debian's ``postgresql`` binaries) for tests that need a shared store.

One cluster per test session (``pg_cluster`` in tests/conftest.py); each test
gets a database of its own from ``pg_url``, so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from portway.testing import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
_names = itertools.count(1)


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def missing() -> str | None:
    """Why no cluster can start here, or None when one can."""
    if not Path(shutil.which("initdb") or PG_BIN / "initdb").exists():
        return "PostgreSQL server binaries (initdb) not installed: apt-get install postgresql"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as another user"
    return None


@dataclass
class PgCluster:
    """A running cluster on 127.0.0.1; ``stop()`` ends it and removes its files."""

    data: Path
    port: int

    @classmethod
    def start(cls) -> PgCluster:
        initdb = shutil.which("initdb") or str(PG_BIN / "initdb")
        # Not pytest's tmp_path: its parents are mode 0700 root, out of the postgres user's reach.
        data = Path(tempfile.mkdtemp(prefix="portway-pg-"))
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
        cluster = cls(data, free_port())
        subprocess.run(
            _as_postgres([initdb, "-D", str(data / "db"), "-A", "trust", "-U", "portway"]),
            check=True,
            capture_output=True,
        )
        cluster.resume()
        return cluster

    def pause(self) -> None:
        """Stop the server, keeping its data: the database going away, as an outage would."""
        self._ctl("-m", "fast", "stop")

    def resume(self) -> None:
        """Start the server (again) on its data and port."""
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=300"
        self._ctl("-w", "-l", str(self.data / "log"), "-o", options, "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://portway@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")
        shutil.rmtree(self.data, ignore_errors=True)

    def _ctl(self, *args: str) -> None:
        pg_ctl = shutil.which("pg_ctl") or str(PG_BIN / "pg_ctl")
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(self.data / "db"), *args]), check=True, capture_output=True
        )
