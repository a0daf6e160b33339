"""The stored FTP password never goes to a host or port it was not typed in for.

The attack: edit a connection's host/port to your own listener, leave the
password empty (which keeps a stored secret), press Ping. The listener here
speaks just enough FTP for a client to send ``USER`` and ``PASS``, and
records every line.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from portway.testing import ServerHandle

PASSWORD = "s3cret-Pass"  # as in conftest.py


class FtpRecorder:
    """An FTP look-alike on 127.0.0.1: greets, asks for a password, refuses it, keeps every line."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            stream.write(b"220 listening\r\n")
            stream.flush()
            for raw in stream:
                line = raw.decode(errors="replace").rstrip("\r\n")
                self.lines.append(line)
                reply = {"USER": b"331 password please\r\n", "PASS": b"530 no\r\n"}.get(line[:4].upper())
                stream.write(reply or b"500 no\r\n")
                stream.flush()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def recorder() -> Iterator[FtpRecorder]:
    listener = FtpRecorder()
    yield listener
    listener.close()


def test_rest_move_clears_the_stored_password_and_says_so(
    portway_server: ServerHandle, servers: Any, recorder: FtpRecorder
) -> None:
    settings = {
        "host": "127.0.0.1",
        "port": servers.port("plain"),
        "username": "tester",
        "password": PASSWORD,
    }
    status, body = portway_server.request(
        "POST", "/admin/api/connections", {"type": "ftp", "name": "files", "settings": settings}
    )
    assert status == 201, body
    status, ping = portway_server.request("POST", "/admin/api/connections/ftp/files/ping")
    assert ping["ok"], ping  # the stored password works where it was typed in for

    moved = {"settings": {"port": recorder.port, "password": ""}}
    status, body = portway_server.request("PATCH", "/admin/api/connections/ftp/files", moved)
    assert status == 200, body
    assert body["cleared_secrets"] == ["password"]
    assert "changing port cleared the stored password" in body["notice"]
    assert "password" not in body["settings"]

    status, ping = portway_server.request("POST", "/admin/api/connections/ftp/files/ping")
    assert status == 200 and not ping["ok"]
    assert "USER tester" in recorder.text  # the client did talk to the new host
    assert PASSWORD not in recorder.text


def test_moving_host_and_typing_the_password_again_sends_only_the_new_one(
    portway_server: ServerHandle, servers: Any, recorder: FtpRecorder
) -> None:
    settings = {
        "host": "localhost",
        "port": servers.port("plain"),
        "username": "tester",
        "password": PASSWORD,
    }
    portway_server.request(
        "POST", "/admin/api/connections", {"type": "ftp", "name": "f", "settings": settings}
    )
    moved = {"settings": {"host": "127.0.0.1", "port": recorder.port, "password": "for-the-new-host"}}
    status, body = portway_server.request("PATCH", "/admin/api/connections/ftp/f", moved)
    assert status == 200 and "cleared_secrets" not in body, body
    portway_server.request("POST", "/admin/api/connections/ftp/f/ping")
    assert "PASS for-the-new-host" in recorder.text and PASSWORD not in recorder.text


def test_cli_update_says_which_secrets_a_move_cleared(portway_env: Any, servers: Any) -> None:
    import subprocess
    import sys

    def portway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portway.cli", *args], capture_output=True, text=True, timeout=60
        )

    env = str(portway_env.root)
    made = portway("conn", "create", env, "ftp", "files", "--host", "127.0.0.1", "--password", PASSWORD)
    assert made.returncode == 0, made.stderr
    kept = portway("conn", "update", env, "ftp", "files", "--timeout-s", "5")
    assert kept.returncode == 0 and "cleared" not in kept.stderr, kept.stderr
    moved = portway("conn", "update", env, "ftp", "files", "--port", str(servers.port("plain")))
    assert moved.returncode == 0, moved.stderr
    assert "Note: changing port cleared the stored password" in moved.stderr
