"""Transfers: integrity, bandwidth limit, metadata, and what an interruption leaves behind."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from portway.files import FileError
from portway_sftp.client import SftpClient
from portway_sftp.failures import ConnectionLost
from portway_sftp.settings import SftpSettings


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 32768, 261120, 261121, 5 * 1024 * 1024 + 7])
def test_round_trip_sizes(client: Any, remote_dir: Path, tmp_path: Path, size: int) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(size))
    client.upload(source, f"{remote_dir}/copy.bin")
    assert _digest(remote_dir / "copy.bin") == _digest(source)
    client.download(f"{remote_dir}/copy.bin", tmp_path / "back.bin")
    assert _digest(tmp_path / "back.bin") == _digest(source)
    assert client.read(f"{remote_dir}/copy.bin") == source.read_bytes()


def test_small_chunks_and_window(sshd: Any, remote_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "s.bin"
    source.write_bytes(os.urandom(300_001))
    settings = SftpSettings(**sshd.settings(buffer_size=4096, requests_in_flight=1))
    with SftpClient.open(settings) as c:
        c.upload(source, f"{remote_dir}/s.bin")
        assert c.read(f"{remote_dir}/s.bin") == source.read_bytes()


def test_bandwidth_limit_is_honoured(sshd: Any, remote_dir: Path, tmp_path: Path) -> None:
    limit_kbit = 8192  # 1 MiB/s
    size = 1536 * 1024
    source = tmp_path / "s.bin"
    source.write_bytes(os.urandom(size))
    expected = size * 8 / (limit_kbit * 1024)
    settings = SftpSettings(**sshd.settings(bandwidth_limit=limit_kbit, buffer_size=32768))
    with SftpClient.open(settings) as c:
        started = time.monotonic()
        c.upload(source, f"{remote_dir}/up.bin")
        up = time.monotonic() - started
        started = time.monotonic()
        c.download(f"{remote_dir}/up.bin", tmp_path / "down.bin")
        down = time.monotonic() - started
    assert expected * 0.8 <= up <= expected * 1.2, (up, expected)
    assert expected * 0.8 <= down <= expected * 1.2, (down, expected)


def test_bandwidth_limit_holds_for_the_connection_across_workers(
    sshd: Any, remote_dir: Path, tmp_path: Path
) -> None:
    limit_kbit = 8192  # 1 MiB/s for the connection, whatever the number of workers
    local = tmp_path / "tree"
    local.mkdir()
    for number in range(8):
        (local / f"{number}.bin").write_bytes(os.urandom(192 * 1024))
    expected = 8 * 192 * 1024 * 8 / (limit_kbit * 1024)
    settings = SftpSettings(
        **sshd.settings(bandwidth_limit=limit_kbit, transfer_workers=4, buffer_size=32768)
    )
    with SftpClient.open(settings) as c:
        started = time.monotonic()
        c.upload(local, f"{remote_dir}/tree")
        took = time.monotonic() - started
    assert expected * 0.8 <= took <= expected * 1.2, (took, expected)
    assert len(list((remote_dir / "tree").iterdir())) == 8


def test_metadata_preserved_when_asked(sshd: Any, remote_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "meta.txt"
    source.write_text("m")
    source.chmod(0o640)
    stamp = 1_600_000_000
    os.utime(source, (stamp, stamp))
    with SftpClient.open(SftpSettings(**sshd.settings(preserve_metadata=True))) as c:
        c.upload(source, f"{remote_dir}/meta.txt")
        remote = (remote_dir / "meta.txt").stat()
        assert int(remote.st_mtime) == stamp and remote.st_mode & 0o777 == 0o640
        os.utime(remote_dir / "meta.txt", (stamp - 50, stamp - 50))
        c.download(f"{remote_dir}/meta.txt", tmp_path / "back.txt")
        assert int((tmp_path / "back.txt").stat().st_mtime) == stamp - 50
        assert (tmp_path / "back.txt").stat().st_mode & 0o777 == 0o640
    with SftpClient.open(SftpSettings(**sshd.settings())) as c:  # off by default
        c.upload(source, f"{remote_dir}/plain.txt")
        assert int((remote_dir / "plain.txt").stat().st_mtime) != stamp
        c.upload(source, f"{remote_dir}/asked.txt", preserve=True)  # per call
        assert int((remote_dir / "asked.txt").stat().st_mtime) == stamp


class _Breaks(io.RawIOBase):
    """A source that fails after some data, like a disk error or a cancelled job."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            raise OSError(5, "Input/output error")
        count = min(len(buffer), self.left)
        buffer[:count] = b"x" * count
        self.left -= count
        return count


def test_interrupted_upload_leaves_nothing(client: Any, remote_dir: Path) -> None:
    (remote_dir / "keep.txt").write_text("old contents")
    with pytest.raises(FileError):
        client._put(io.BufferedReader(_Breaks(3_000_000)), f"{remote_dir}/new.bin")
    with pytest.raises(FileError):
        client._put(io.BufferedReader(_Breaks(1_000_000)), f"{remote_dir}/keep.txt")
    assert sorted(p.name for p in remote_dir.iterdir()) == ["keep.txt"]
    assert (remote_dir / "keep.txt").read_text() == "old contents"
    assert client.read(f"{remote_dir}/keep.txt") == b"old contents"  # the client still works


def test_dropped_connection_mid_upload_never_shows_a_partial_target(
    sshd: Any, remote_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(8 * 1024 * 1024))
    before = set(sshd.session_pids())
    settings = SftpSettings(**sshd.settings(bandwidth_limit=16384))  # ~4 s for 8 MiB
    with SftpClient.open(settings) as c:
        mine = set(sshd.session_pids()) - before
        assert mine, "no sshd session process found for our connection"
        killer = threading.Timer(1.0, lambda: [os.kill(pid, signal.SIGKILL) for pid in mine])
        killer.start()
        with pytest.raises(ConnectionLost):
            c.upload(source, f"{remote_dir}/big.bin")
        killer.join()
    assert not (remote_dir / "big.bin").exists()
    # The temp file cannot be removed over a dead connection; it is hidden and named as ours.
    left = [p.name for p in remote_dir.iterdir()]
    assert all(name.startswith(".big.bin.") and name.endswith(".portway-part") for name in left)


def test_many_small_files_with_workers(client: Any, remote_dir: Path, tmp_path: Path) -> None:
    local = tmp_path / "many"
    for group in range(3):
        (local / f"g{group}").mkdir(parents=True)
        for number in range(40):
            (local / f"g{group}" / f"{number}.txt").write_text(f"{group}-{number}")
    client.upload(local, f"{remote_dir}/many")
    assert len(list((remote_dir / "many").rglob("*.txt"))) == 120
    client.download(f"{remote_dir}/many", tmp_path / "back")
    assert (tmp_path / "back" / "g2" / "39.txt").read_text() == "2-39"
    client.delete(f"{remote_dir}/many")
    assert not (remote_dir / "many").exists()
