"""The pickup's batched calls, read_many and rename_many, against a real sshd."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from portway.files import AlreadyExists, FileError, IsADirectory, NotFound
from portway_sftp.batches import MAX_BATCH
from portway_sftp.client import SftpClient
from portway_sftp.failures import ConnectionLost, is_broken
from portway_sftp.settings import SftpSettings


def _open_below(folder: Path) -> list[str]:
    """Files below ``folder`` any other process holds open (the sshd's sftp server among them)."""
    held = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue  # gone, or not ours to see
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(f"{folder}/"):
                held.append(target)
    return held


def _no_handles_left(client: Any, folder: Path) -> None:
    # One more round trip: the server has handled every close we sent before answering it.
    client.get_info(str(folder))
    assert _open_below(folder) == []


def test_read_many_returns_contents_and_errors_in_place(client: Any, remote_dir: Path) -> None:
    big = os.urandom(3 * client._read_chunk + 7)  # more than one read chunk: the pipelined download
    (remote_dir / "empty").write_bytes(b"")
    (remote_dir / "small").write_bytes(b"s" * 4096)
    (remote_dir / "big").write_bytes(big)
    (remote_dir / "folder").mkdir()
    (remote_dir / "last").write_bytes(b"last")
    names = ["empty", "small", "missing", "big", "folder", "last"]

    got = client.read_many([f"{remote_dir}/{name}" for name in names])

    assert got[0] == b""
    assert got[1] == b"s" * 4096
    assert isinstance(got[2], NotFound) and got[2].path == f"{remote_dir}/missing"
    assert got[3] == big
    assert isinstance(got[4], IsADirectory) and got[4].path == f"{remote_dir}/folder"
    assert got[5] == b"last"
    for index in (2, 4):  # the same error the single read raises
        with pytest.raises(type(got[index])):
            client.read(f"{remote_dir}/{names[index]}")
    _no_handles_left(client, remote_dir)
    assert client.read(f"{remote_dir}/small") == b"s" * 4096  # the channel is in step


def test_read_many_relative_paths_and_nothing(sshd: Any, remote_dir: Path) -> None:
    (remote_dir / "a").write_bytes(b"a")
    with SftpClient.open(SftpSettings(**sshd.settings(default_directory=str(remote_dir)))) as c:
        assert c.read_many(["a", "b"])[0] == b"a"
        assert isinstance(c.read_many(["b"])[0], NotFound)
        assert c.read_many([]) == []
        assert c.rename_many([]) == []


def test_read_many_over_the_batch_size_leaks_no_handle(client: Any, remote_dir: Path) -> None:
    count = 2 * MAX_BATCH + 5  # three blocks
    for number in range(count):
        (remote_dir / f"{number}.txt").write_bytes(str(number).encode() * 100)
    (remote_dir / "sub").mkdir()
    paths = [f"{remote_dir}/{number}.txt" for number in range(count)]
    paths[7] = f"{remote_dir}/sub"  # a directory is opened too (and must be closed)
    paths[70] = f"{remote_dir}/gone.txt"
    for _round in range(5):
        got = client.read_many(paths)
        assert len(got) == count
        assert isinstance(got[7], IsADirectory) and isinstance(got[70], NotFound)
        assert all(got[n] == str(n).encode() * 100 for n in range(count) if n not in (7, 70))
    _no_handles_left(client, remote_dir)


def test_read_many_with_small_chunks_and_a_bandwidth_limit(sshd: Any, remote_dir: Path) -> None:
    contents = {"a": os.urandom(4096), "b": os.urandom(10_000), "c": b""}
    for name, data in contents.items():
        (remote_dir / name).write_bytes(data)
    settings = SftpSettings(**sshd.settings(buffer_size=4096, bandwidth_limit=100_000))
    with SftpClient.open(settings) as c:
        assert c.read_many([f"{remote_dir}/{name}" for name in contents]) == list(contents.values())
        _no_handles_left(c, remote_dir)


def test_read_many_raises_when_the_connection_drops(sshd: Any, remote_dir: Path) -> None:
    (remote_dir / "a").write_bytes(b"a")
    before = set(sshd.session_pids())
    with SftpClient.open(SftpSettings(**sshd.settings())) as c:
        mine = set(sshd.session_pids()) - before
        assert mine, "no sshd session process found for our connection"
        for pid in mine:
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(ConnectionLost) as raised:
            c.read_many([f"{remote_dir}/a", f"{remote_dir}/a"])
        assert is_broken(raised.value)
        with pytest.raises(ConnectionLost):
            c.rename_many([(f"{remote_dir}/a", f"{remote_dir}/b")])


def test_rename_many_reports_each_pair(client: Any, remote_dir: Path) -> None:
    for name in ("one", "two", "taken", "three"):
        (remote_dir / name).write_text(name)
    (remote_dir / "done").mkdir()
    (remote_dir / "done" / "two").write_text("was there")
    pairs = [
        (f"{remote_dir}/one", f"{remote_dir}/done/one"),
        (f"{remote_dir}/two", f"{remote_dir}/done/two"),  # target exists
        (f"{remote_dir}/missing", f"{remote_dir}/done/missing"),  # source gone
        (f"{remote_dir}/three", f"{remote_dir}/done/three"),
    ]

    got = client.rename_many(pairs)

    assert got[0] is None and got[3] is None
    assert isinstance(got[1], AlreadyExists) and got[1].path == f"{remote_dir}/done/two"
    assert isinstance(got[2], NotFound) and got[2].path == f"{remote_dir}/missing"
    assert sorted(p.name for p in (remote_dir / "done").iterdir()) == ["one", "three", "two"]
    assert (remote_dir / "done" / "two").read_text() == "was there"  # never replaced
    assert (remote_dir / "two").read_text() == "two"
    # The same errors rename_new raises for those pairs.
    with pytest.raises(AlreadyExists):
        client.rename_new(*pairs[1])
    with pytest.raises(NotFound):
        client.rename_new(*pairs[2])


def test_rename_many_over_the_batch_size(client: Any, remote_dir: Path) -> None:
    count = MAX_BATCH + 3
    (remote_dir / "done").mkdir()
    for number in range(count):
        (remote_dir / str(number)).write_text("x")
    pairs = [(f"{remote_dir}/{n}", f"{remote_dir}/done/{n}") for n in range(count)]
    assert client.rename_many(pairs) == [None] * count
    assert len(list((remote_dir / "done").iterdir())) == count
    again = client.rename_many(pairs)
    assert all(isinstance(error, NotFound) for error in again)
    assert all(isinstance(error, FileError) for error in again)
