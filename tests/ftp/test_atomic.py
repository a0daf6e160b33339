"""A transfer that breaks part way leaves nothing behind: no partial target, no temp file.

The servers here are real pyftpdlib servers whose data handler cuts the
connection after 1 MiB, the way a dropped link or a full disk would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from portway.files import FileError, TransferError

CUT_AFTER = 1024 * 1024


def cutting_handler(base: type, *, kill_session: bool) -> type:
    """A data handler that aborts after CUT_AFTER bytes (and with ``kill_session`` drops the login)."""

    class Cutting(base):  # type: ignore[misc, valid-type]
        def handle_read(self) -> None:
            super().handle_read()
            if self.get_transmitted_bytes() > CUT_AFTER and not self._closed:
                self._cut()

        handle_read_event = handle_read  # pyftpdlib's event loop calls this alias

        def send(self, data: bytes) -> int:
            if self.get_transmitted_bytes() > CUT_AFTER:
                self._cut()
                return 0
            sent: int = super().send(data)
            return sent

        def _cut(self) -> None:
            cmd_channel = self.cmd_channel
            self._resp = ("426 Connection cut by the test; transfer aborted.", lambda *a, **k: None)
            self.close()
            if kill_session:
                cmd_channel.close()

    return Cutting


def servers_with_cut(make_servers: Any, kill_session: bool) -> Any:
    from pyftpdlib.handlers import DTPHandler, TLS_DTPHandler

    servers = make_servers()
    # Each listener's handler class is private to this test: swap its data handler.
    for server in servers.server._servers:
        handler = server.handler
        base = TLS_DTPHandler if issubclass(handler.dtp_handler, TLS_DTPHandler) else DTPHandler
        handler.dtp_handler = cutting_handler(base, kill_session=kill_session)
        handler.use_sendfile = False  # sendfile(2) would bypass the cutting send()
    return servers


@pytest.mark.parametrize("mode", ["plain", "explicit"])
def test_interrupted_upload_leaves_no_partial_file(make_servers: Any, mode: str, tmp_path: Path) -> None:
    servers = servers_with_cut(make_servers, kill_session=False)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(8 * CUT_AFTER))
    with servers.open(mode) as client:
        with pytest.raises(TransferError) as failed:
            client.upload_file(source, "big.bin")
        assert "interrupted" in str(failed.value)
        assert failed.value.path.endswith("/big.bin")
        assert list(servers.root.iterdir()) == []  # neither big.bin nor its temp file
        client.write(b"small", "small.txt")  # the session goes on
        assert (servers.root / "small.txt").read_bytes() == b"small"


@pytest.mark.parametrize("mode", ["plain", "explicit"])
def test_interrupted_upload_keeps_the_previous_version(make_servers: Any, mode: str) -> None:
    servers = servers_with_cut(make_servers, kill_session=False)
    (servers.root / "report.csv").write_bytes(b"version 1")
    with servers.open(mode) as client, pytest.raises(TransferError):
        client.write(os.urandom(4 * CUT_AFTER), "report.csv")
    assert (servers.root / "report.csv").read_bytes() == b"version 1"
    assert [p.name for p in servers.root.iterdir()] == ["report.csv"]


@pytest.mark.parametrize("mode", ["plain", "implicit"])
def test_upload_cut_with_the_session_cleans_up_over_a_new_one(make_servers: Any, mode: str) -> None:
    servers = servers_with_cut(make_servers, kill_session=True)
    client = servers.open(mode)
    try:
        with pytest.raises(FileError):
            client.write(os.urandom(4 * CUT_AFTER), "lost.bin")
        assert list(servers.root.iterdir()) == []
        # The client reconnects by itself for the next call.
        client.write(b"back", "back.txt")
        assert (servers.root / "back.txt").read_bytes() == b"back"
    finally:
        client.close()


@pytest.mark.parametrize("mode", ["plain", "explicit"])
def test_interrupted_download_leaves_no_local_file(make_servers: Any, mode: str, tmp_path: Path) -> None:
    servers = servers_with_cut(make_servers, kill_session=False)
    (servers.root / "big.bin").write_bytes(os.urandom(8 * CUT_AFTER))
    target = tmp_path / "out" / "big.bin"
    target.parent.mkdir()
    with servers.open(mode) as client:
        with pytest.raises(TransferError):
            client.download_file("big.bin", target)
        assert list(target.parent.iterdir()) == []
        with pytest.raises(TransferError):
            client.read("big.bin")
        assert client.ping() > 0


def _rnto_without_replace(self: Any, path: str) -> Any:
    """RNTO that refuses an existing target, as IIS does."""
    from pyftpdlib.handlers import FTPHandler

    if os.path.exists(path):
        self.respond("550 Cannot create a file when that file already exists.")
        return None
    return FTPHandler.ftp_RNTO(self, path)


def test_servers_that_do_not_rename_over_a_file_still_get_the_new_version(make_servers: Any) -> None:
    servers = make_servers({"ftp_RNTO": _rnto_without_replace})
    with servers.open("plain") as client:
        client.write(b"version 1", "data.csv")
        client.write(b"version 2", "data.csv")
        assert client.read("data.csv") == b"version 2"
        with pytest.raises(FileError):
            client.rename("data.csv", "data.csv")  # refused: the target exists
    assert [p.name for p in servers.root.iterdir()] == ["data.csv"]
