"""Which process is the server: the lock it holds, never a pid file's word alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portway.environment import Environment
from portway.serverlock import ServerLock, holder, start_time
from portway.testing import ServerHandle

PORTWAY = str(Path(sys.executable).with_name("portway"))


def _portway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PORTWAY, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated live process: what a stale pid may point at."""
    process = subprocess.Popen(["sleep", "300"])
    yield process
    process.kill()
    process.wait()


def test_stale_pid_files_never_make_start_refuse_or_stop_kill(
    portway_env: Environment, bystander: subprocess.Popen[bytes]
) -> None:
    pid = bystander.pid
    # What a server that died long ago leaves behind, its pid since reused: both the old
    # pid file and a lock file naming the other process (with its real start time).
    (portway_env.root / "server.pid").write_text(f"{pid}\n")
    portway_env.lock_path.write_text(f"{pid} {start_time(pid)}\n")
    env = str(portway_env.root)

    assert json.loads(_portway("status", env, "--json").stdout)["running"] is False
    started = _portway("start", env)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        status = json.loads(_portway("status", env, "--json").stdout)
        assert status["running"] is True and status["pid"] != pid
    finally:
        stopped = _portway("stop", env)
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout, stopped.stderr
    assert bystander.poll() is None, "stop signalled a process that is not the server"
    again = _portway("stop", env)
    assert again.returncode == 0 and "not running" in again.stdout
    assert bystander.poll() is None


def test_a_held_lock_naming_another_process_is_not_believed(
    tmp_path: Path, bystander: subprocess.Popen[bytes]
) -> None:
    path = tmp_path / "server.lock"
    lock = ServerLock.acquire(path)
    try:
        mine = holder(path)
        assert mine is not None and mine.pid == os.getpid() and mine.alive()
        # The holder's pid replaced by a live process that did not take the lock (the pid
        # of a dead holder, reused): its start time gives it away.
        path.write_text(f"{bystander.pid} 1\n")
        assert holder(path) is None
    finally:
        lock.release()
    assert holder(path) is None  # released: nobody runs, whatever the file says


def test_second_server_of_one_environment_is_refused(portway_server: ServerHandle) -> None:
    env = portway_server.env
    second = subprocess.run(
        [sys.executable, "-m", "portway.server", str(env.root)], capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 1
    running = holder(env.lock_path)
    assert running is not None and f"already running (pid {running.pid} holds" in second.stderr
    refused = _portway("start", str(env.root))
    assert refused.returncode == 1 and "already running" in refused.stderr
    assert portway_server.request("GET", "/admin/api/health")[0] == 200
