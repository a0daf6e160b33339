"""The config store on a real PostgreSQL server (a throwaway cluster started by the test)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portway import environment
from portway.runtime import Runtime
from portway.testing import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    initdb = shutil.which("initdb") or str(PG_BIN / "initdb")
    pg_ctl = shutil.which("pg_ctl") or str(PG_BIN / "pg_ctl")
    if not Path(initdb).exists():
        pytest.skip("PostgreSQL server binaries (initdb) not installed: apt-get install postgresql")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    # Not pytest's tmp_path: its parents are mode 0700 root, out of the postgres user's reach.
    data = Path(tempfile.mkdtemp(prefix="portway-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres([initdb, "-D", str(data / "db"), "-A", "trust", "-U", "portway"]),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres(
            [
                pg_ctl,
                "-D",
                str(data / "db"),
                "-w",
                "-l",
                str(data / "log"),
                "-o",
                f"-p {port} -k {data} -c listen_addresses=127.0.0.1",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://portway@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data / "db"), "-m", "fast", "stop"]), capture_output=True
        )
        shutil.rmtree(data, ignore_errors=True)


def _env_on(tmp_path: Path, name: str, url: str, key_from: Path | None = None) -> environment.Environment:
    env = environment.create(tmp_path / name, port=free_port())
    toml = env.toml_path
    toml.write_text(toml.read_text().replace('url = ""', f'url = "{url}"'))
    if key_from is not None:  # servers sharing a store share its secrets key
        env.secrets_key.write_bytes(key_from.read_bytes())
    return environment.load(env.root)


def test_two_servers_share_one_postgresql_store(
    pg_url: str, tmp_path: Path, echo_settings: dict[str, Any]
) -> None:
    first = Runtime(_env_on(tmp_path, "a", pg_url))
    second = Runtime(_env_on(tmp_path, "b", pg_url, key_from=first.env.secrets_key))
    try:
        second.refresh(force=True)
        first.catalog.create("connection", "echo", "shared", echo_settings)
        assert second.refresh() is True
        resolved = second.catalog.resolve("connection", "echo", "shared")
        assert resolved.token.get_secret_value() == echo_settings["token"]  # type: ignore[attr-defined]
        assert second.connections.ping("echo", "shared") > 0
        first.catalog.delete("connection", "echo", "shared")
        assert second.catalog.list("connection") == []
    finally:
        first.close()
        second.close()
