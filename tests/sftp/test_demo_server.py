"""The embedded demo server: start it as a newcomer would, then use it with the client."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portway_sftp.client import SftpClient
from portway_sftp.failures import AuthenticationFailed
from portway_sftp.settings import SftpSettings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, Any]]:
    root, state = tmp_path / "served", tmp_path / "state"
    root.mkdir()
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portway_sftp.demo_server",
            "--root",
            str(root),
            "--port",
            str(port),
            "--user",
            "demo",
            "--password",
            "s3cret",
            "--state-dir",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (state / "known_hosts").exists() or not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"demo server did not start: {process.stdout.read() if process.stdout else ''}")
        time.sleep(0.05)
    try:
        yield {"root": root, "state": state, "port": port, "process": process}
    finally:
        process.terminate()
        process.wait(10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_demo_server_serves_the_folder(demo: dict[str, Any], tmp_path: Path) -> None:
    (demo["root"] / "hello.txt").write_text("hi")
    settings = SftpSettings(
        host="127.0.0.1",
        port=demo["port"],
        username="demo",
        password="s3cret",
        known_hosts_file=str(demo["state"] / "known_hosts"),
    )
    with SftpClient.open(settings) as client:
        assert client.home() == "/"
        assert [i.name for i in client.list("/")] == ["hello.txt"]
        client.write("from portway", "/sub.txt")
        assert (demo["root"] / "sub.txt").read_text() == "from portway"
        client.create_directory("/d")
        client.upload(demo["root"] / "hello.txt", "/d/copy.txt")
        assert client.read("d/copy.txt") == b"hi"
        assert "hello.txt" in client.execute("ls -l")
        client.delete("/d")
    assert sorted(p.name for p in demo["root"].iterdir()) == ["hello.txt", "sub.txt"]
    key_line = (demo["state"] / "known_hosts").read_text()
    assert key_line.startswith(f"[127.0.0.1]:{demo['port']} ssh-ed25519 ")
    with pytest.raises(AuthenticationFailed):
        SftpClient.open(SftpSettings(**{**settings.model_dump(), "password": "wrong"}))
