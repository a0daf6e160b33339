"""The ``sftp`` pickup channel against the real sshd, through the connection's pool."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pickup"))
from pickup_kit import Recorded, boot, deploy_recorder, open_channel, wait_for, write_slowly

from portway import environment
from portway.testing import allow_files, create_connection, free_port


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    return Recorded(tmp_path / "recorded.jsonl")


@pytest.fixture
def runtime(tmp_path: Path, sshd: Any, recorded: Recorded) -> Iterator[Any]:
    env = allow_files(environment.create(tmp_path / "env", port=free_port()), sshd.folder)
    runtime = boot(env)
    deploy_recorder(runtime, recorded)
    create_connection(runtime, "sftp", "bank", sshd.settings())
    yield runtime
    runtime.close()


def test_a_slow_upload_is_delivered_whole_once_and_moved(
    runtime: Any, remote_dir: Path, recorded: Recorded
) -> None:
    open_channel(
        runtime, "sftp", "in", connection="bank", folder=str(remote_dir), read_lock_check_interval_s=0.4
    )
    size = write_slowly(remote_dir / "statement.txt")
    rows = recorded.wait(1)
    assert rows[0]["size"] == size and rows[0]["connection"] == "bank"
    wait_for(lambda: (remote_dir / ".done" / "statement.txt").exists(), what="moved to .done")
    time.sleep(0.8)
    assert len(recorded.rows()) == 1


def test_done_files_failures_and_filters(runtime: Any, remote_dir: Path, recorded: Recorded) -> None:
    open_channel(
        runtime,
        "sftp",
        "in",
        connection="bank",
        folder=str(remote_dir),
        read_lock="done_file",
        include=["*.csv"],
    )
    (remote_dir / "good.csv").write_text("1,2")
    (remote_dir / "bad.csv").write_text("FAIL")
    (remote_dir / "other.txt").write_text("x")
    (remote_dir / "other.txt.done").write_text("")
    time.sleep(0.6)
    assert recorded.rows() == []
    (remote_dir / "good.csv.done").write_text("")
    (remote_dir / "bad.csv.done").write_text("")
    recorded.wait(2)
    wait_for(lambda: (remote_dir / ".error" / "bad.csv").exists(), what="error folder")
    wait_for(lambda: (remote_dir / ".done" / "good.csv").exists(), what="done folder")
    wait_for(lambda: not (remote_dir / "good.csv.done").exists(), what="done file removed")
    assert sorted(recorded.names()) == ["bad.csv", "good.csv"]


def test_keep_then_restart_delivers_nothing_again(runtime: Any, remote_dir: Path, recorded: Recorded) -> None:
    open_channel(
        runtime, "sftp", "in", connection="bank", folder=str(remote_dir), keep=True, read_lock="none"
    )
    for index in range(5):
        (remote_dir / f"f{index}.txt").write_text(str(index))
    recorded.wait(5)
    runtime.channels.stop_all(5)
    runtime.refresh(force=True)
    (remote_dir / "new.txt").write_text("new")
    recorded.wait(6)
    time.sleep(0.8)
    assert sorted(recorded.names()) == [*(f"f{i}.txt" for i in range(5)), "new.txt"]


def test_files_share_pooled_connections_and_survive_a_lost_one(
    runtime: Any, sshd: Any, remote_dir: Path, recorded: Recorded
) -> None:
    before = set(sshd.session_pids())
    open_channel(
        runtime, "sftp", "in", connection="bank", folder=str(remote_dir), read_lock="none", max_concurrent=2
    )
    for index in range(12):
        (remote_dir / f"a{index:02d}.txt").write_text(str(index))
    recorded.wait(12)
    sessions = set(sshd.session_pids()) - before
    assert 1 <= len(sessions) <= 4  # the pool's size, not one per file
    for pid in sessions:  # cut the connections off under the channel
        os.kill(pid, signal.SIGKILL)
    (remote_dir / "after.txt").write_text("x")
    recorded.wait(13, 20)
    assert recorded.names().count("after.txt") == 1


def test_a_move_never_overwrites_an_earlier_file_of_the_same_name(
    runtime: Any, remote_dir: Path, recorded: Recorded
) -> None:
    (remote_dir / ".done").mkdir()
    (remote_dir / ".done" / "dup.txt").write_text("yesterday's")
    open_channel(runtime, "sftp", "in", connection="bank", folder=str(remote_dir), read_lock="none")
    (remote_dir / "dup.txt").write_text("today's")
    recorded.wait(1)
    wait_for(lambda: not (remote_dir / "dup.txt").exists(), what="moved")
    assert (remote_dir / ".done" / "dup.txt").read_text() == "yesterday's"
    (moved,) = [p for p in (remote_dir / ".done").iterdir() if p.name.startswith("dup.txt.")]
    assert moved.read_text() == "today's"
