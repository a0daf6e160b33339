"""Bad input and hard conditions: a FileError naming the path and reason, never a paramiko traceback."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from portway.files import FileError, NoSpace, NotFound
from portway_sftp.client import SftpClient
from portway_sftp.settings import SftpSettings


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, to fill up."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_full_is_no_space_and_leaves_nothing(client: Any, tiny_disk: Path, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    with pytest.raises(NoSpace) as caught:
        client.upload(source, f"{tiny_disk}/big.bin")
    assert caught.value.path == f"{tiny_disk}/big.bin"
    assert "disk is full" in caught.value.reason
    assert list(tiny_disk.iterdir()) == []
    client.write("still works", f"{tiny_disk}/small.txt")
    assert (tiny_disk / "small.txt").read_text() == "still works"


def test_missing_paths_name_the_path(client: Any, remote_dir: Path, tmp_path: Path) -> None:
    for call in (
        lambda: client.read(f"{remote_dir}/nope"),
        lambda: client.get_info(f"{remote_dir}/nope"),
        lambda: client.delete(f"{remote_dir}/nope"),
        lambda: client.chmod("644", f"{remote_dir}/nope"),
        lambda: client.write("x", f"{remote_dir}/no-dir/file"),
        lambda: client.upload(tmp_path / "no-local-file", f"{remote_dir}/x"),
    ):
        with pytest.raises(NotFound) as caught:
            call()
        assert "nope" in caught.value.path or "no-dir" in caught.value.path or "no-local" in caught.value.path
        assert caught.value.reason


def test_errors_are_never_paramiko_exceptions(client: Any, remote_dir: Path) -> None:
    (remote_dir / "d").mkdir()
    (remote_dir / "d" / "x").write_text("x")
    with pytest.raises(FileError) as caught:
        client.remove_directory(f"{remote_dir}/d")
    assert "not empty" in caught.value.reason
    with pytest.raises(FileError):
        client.create_hardlink(f"{remote_dir}/missing", f"{remote_dir}/h")


def test_debug_logs_the_protocol_through_structlog(sshd: Any, remote_dir: Path) -> None:
    settings = SftpSettings(**sshd.settings(log_level="debug"))
    with structlog.testing.capture_logs() as logs, SftpClient.open(settings) as client:
        client.list(str(remote_dir))
        client.write("x", f"{remote_dir}/f")
    protocol = [e for e in logs if e["event"] == "ssh"]
    assert any("aes128-gcm" in e["message"] for e in protocol)  # the negotiation
    assert any("listdir" in e["message"] for e in protocol)  # each SFTP request
    assert any(e["event"] == "sftp_request" and e["operation"] == "upload" for e in logs)
    with structlog.testing.capture_logs() as quiet, SftpClient.open(SftpSettings(**sshd.settings())) as c:
        c.list(str(remote_dir))
    assert not [e for e in quiet if e["event"] in ("ssh", "sftp_request")]
