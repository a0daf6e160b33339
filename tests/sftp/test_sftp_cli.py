"""``portway sftp exec`` and ``portway sftp shell`` on a configured connection."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def env(sshd: Any, tmp_path: Path) -> Path:
    from portway import environment
    from portway.runtime import Runtime
    from portway.testing import allow_files

    root = tmp_path / "env"
    runtime = Runtime(allow_files(environment.create(root), sshd.folder))
    runtime.catalog.create("connection", "sftp", "bank", sshd.settings())
    runtime.close()
    return root


def _portway(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portway.cli", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_exec_prints_transcript(env: Path, remote_dir: Path) -> None:
    (remote_dir / "a.txt").write_text("a")
    done = _portway("sftp", "exec", str(env), "bank", f"cd {remote_dir}\nls -1\npwd")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"sftp> cd {remote_dir}",
        "sftp> ls -1",
        "a.txt",
        "sftp> pwd",
        f"Remote working directory: {remote_dir}",
    ]


def test_exec_stops_at_failure_with_status_1(env: Path, remote_dir: Path) -> None:
    script = remote_dir.parent / "script.txt"
    script.write_text(f"cd {remote_dir}\nrm nothing\npwd\n")
    done = _portway("sftp", "exec", str(env), "bank", f"@{script}")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"sftp> cd {remote_dir}", "sftp> rm nothing"]
    assert f"remote delete {remote_dir}/nothing: No such file or directory" in done.stderr


def test_exec_reads_the_script_from_stdin(env: Path, remote_dir: Path) -> None:
    done = _portway("sftp", "exec", str(env), "bank", "-", stdin=f"cd {remote_dir}\npwd\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"Remote working directory: {remote_dir}"


def test_exec_unknown_connection(env: Path) -> None:
    done = _portway("sftp", "exec", str(env), "nope", "pwd")
    assert done.returncode == 1
    assert "nope" in done.stderr and "Traceback" not in done.stderr


def test_shell_keeps_its_directory_and_goes_on_after_errors(env: Path, remote_dir: Path) -> None:
    done = _portway("sftp", "shell", str(env), "bank", stdin=f"cd {remote_dir}\nrm nothing\npwd\nbye\npwd\n")
    assert done.returncode == 0, done.stderr
    assert f"Remote working directory: {remote_dir}" in done.stdout
    assert done.stdout.count("Remote working directory") == 1  # nothing runs after bye
    assert "No such file or directory" in done.stderr
