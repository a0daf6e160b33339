"""The ``ftp`` pickup channel against pyftpdlib (plain FTP and explicit FTPS)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pickup"))
from pickup_kit import Recorded, boot, deploy_recorder, open_channel, wait_for, write_slowly

from portway.testing import create_connection


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    return Recorded(tmp_path / "recorded.jsonl")


@pytest.fixture
def runtime(portway_env: Any, recorded: Recorded) -> Iterator[Any]:
    runtime = boot(portway_env)
    deploy_recorder(runtime, recorded)
    yield runtime
    runtime.close()


def connection(servers: Any, listener: str = "plain") -> dict[str, Any]:
    settings = servers.settings(listener)
    return {**settings.model_dump(mode="json"), "password": settings.password.get_secret_value()}


@pytest.fixture
def inbox(servers: Any) -> Path:
    folder = servers.root / "in"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("listener", ["plain", "explicit"])
def test_a_slow_upload_is_delivered_whole_once_and_moved(
    runtime: Any, servers: Any, inbox: Path, recorded: Recorded, listener: str
) -> None:
    create_connection(runtime, "ftp", "bank", connection(servers, listener))
    open_channel(runtime, "ftp", "in", connection="bank", folder="/in", read_lock_check_interval_s=1.1)
    size = write_slowly(inbox / "statement.txt", chunks=4, pause_s=0.4)
    rows = recorded.wait(1)
    assert rows[0]["size"] == size and rows[0]["connection"] == "bank"
    wait_for(lambda: (inbox / ".done" / "statement.txt").exists(), what="moved to .done")
    time.sleep(1.0)
    assert len(recorded.rows()) == 1


def test_failures_go_to_the_error_folder_and_keep_survives_a_restart(
    runtime: Any, servers: Any, inbox: Path, recorded: Recorded
) -> None:
    create_connection(runtime, "ftp", "bank", connection(servers))
    open_channel(runtime, "ftp", "in", connection="bank", folder="/in", read_lock="rename")
    (inbox / "bad.txt").write_text("FAIL")
    (inbox / "good.txt").write_text("ok")
    recorded.wait(2)
    wait_for(lambda: (inbox / ".error" / "bad.txt").exists(), what="error folder")
    wait_for(lambda: (inbox / ".done" / "good.txt").exists(), what="done folder")
    assert sorted(p.name for p in inbox.iterdir()) == [".done", ".error"]


def test_vsftpd_with_a_done_file_lock(
    runtime: Any, vsftpd: Any, vsftpd_dir: tuple[Path, str], recorded: Recorded
) -> None:
    import shutil

    local, remote = vsftpd_dir
    settings = vsftpd.settings()
    create_connection(
        runtime,
        "ftp",
        "bank",
        {**settings.model_dump(mode="json"), "password": settings.password.get_secret_value()},
    )
    open_channel(runtime, "ftp", "in", connection="bank", folder=remote, read_lock="done_file")
    size = write_slowly(local / "statement.txt", chunks=4, pause_s=0.2)
    time.sleep(0.6)
    assert recorded.rows() == []  # no done file yet
    (local / "statement.txt.done").write_text("")
    for path in (local / "statement.txt", local / "statement.txt.done"):
        shutil.chown(path, path.parent.owner())  # vsftpd's user renames and deletes them
    rows = recorded.wait(1)
    assert rows[0]["size"] == size
    wait_for(lambda: (local / ".done" / "statement.txt").exists(), what="moved to .done")
    assert not (local / "statement.txt.done").exists()
