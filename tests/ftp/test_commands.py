"""``portway ftp exec`` and the demo server, run as users run them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from portway.runtime import Runtime
from portway_ftp.client import FtpClient
from portway_ftp.settings import FtpSettings

PASSWORD = "s3cret-Pass"  # as in conftest.py


def _configure(env: Any, servers: Any) -> None:
    settings = servers.settings("explicit").model_dump(mode="json")
    settings["password"] = PASSWORD
    rt = Runtime(env)
    try:
        rt.catalog.create("connection", "ftp", "files", {k: v for k, v in settings.items() if v is not None})
    finally:
        rt.close()


def test_exec_runs_a_script(servers: Any, portway_env: Any, tmp_path: Path) -> None:
    from portway.cli import cli

    _configure(portway_env, servers)
    (tmp_path / "up.txt").write_text("uploaded")
    script = tmp_path / "job.txt"
    script.write_text(f"put {tmp_path / 'up.txt'} /in.txt\nls -l /\n")
    result = CliRunner().invoke(cli, ["ftp", "exec", str(portway_env.root), "files", f"@{script}"])
    assert result.exit_code == 0, result.output
    # An FTP connection's transcript says so: ftp>, not sftp>.
    assert "ftp> put" in result.output and "in.txt" in result.output
    assert "sftp>" not in result.output
    assert (servers.root / "in.txt").read_text() == "uploaded"
    inline = CliRunner().invoke(cli, ["ftp", "exec", str(portway_env.root), "files", "ls -1 /"])
    assert inline.exit_code == 0 and "ftp> ls -1 /\n/in.txt\n" in inline.output


def test_exec_ls_la_shows_no_unknown_dot_entries(servers: Any, portway_env: Any) -> None:
    from portway.cli import cli

    _configure(portway_env, servers)
    (servers.root / "sub").mkdir()
    (servers.root / "sub" / "f.txt").write_text("x")
    result = CliRunner().invoke(cli, ["ftp", "exec", str(portway_env.root), "files", "ls -la /\nls -la /sub"])
    assert result.exit_code == 0, result.output
    assert "? ? ?" not in result.output and "d---------" not in result.output, result.output
    lines = result.output.splitlines()
    # The server knows nothing of / (MLST of / gives no facts here): no . or .. for it.
    root_listing = lines[lines.index("ftp> ls -la /") + 1 : lines.index("ftp> ls -la /sub")]
    assert not [line for line in root_listing if line.endswith((" .", " .."))], root_listing
    # A subfolder has facts: its . is shown as a real directory with its mode, .. (/) is not.
    sub_listing = lines[lines.index("ftp> ls -la /sub") + 1 :]
    dots = [line for line in sub_listing if line.endswith((" /sub/.", " /sub/.."))]
    assert [line.rsplit(" ", 1)[1] for line in dots] == ["/sub/."], sub_listing
    assert dots[0].startswith("drwx")
    assert any(line.endswith("/sub/f.txt") for line in sub_listing)
    missing = CliRunner().invoke(cli, ["ftp", "exec", str(portway_env.root), "files", "@/no/such.txt"])
    assert missing.exit_code == 2 and "script file /no/such.txt does not exist" in missing.output


def test_exec_stops_at_the_first_failure(servers: Any, portway_env: Any) -> None:
    from portway.cli import cli

    _configure(portway_env, servers)
    result = CliRunner().invoke(
        cli, ["ftp", "exec", str(portway_env.root), "files", "-"], input="mkdir a\nrm nothing\nmkdir b\n"
    )
    assert result.exit_code == 1
    assert "remote delete" in result.output
    assert (servers.root / "a").is_dir() and not (servers.root / "b").exists()


def test_exec_names_an_unknown_connection(portway_env: Any) -> None:
    from portway.cli import cli

    result = CliRunner().invoke(cli, ["ftp", "exec", str(portway_env.root), "nope", "-"], input="ls\n")
    assert result.exit_code == 1
    assert "nope" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_server_serves_plain_and_verified_ftps(tmp_path: Path) -> None:
    ports = [_free_port() for _ in range(3)]
    command = [
        sys.executable, "-m", "portway_ftp.demo_server", "--root", str(tmp_path / "root"),
        "--port", str(ports[0]), "--tls-port", str(ports[1]), "--implicit-port", str(ports[2]),
        "--user", "demo", "--password", "pw", "--cert-dir", str(tmp_path / "certs"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if "portway conn create" in line and "--tls explicit" in line:
                break
        output = "".join(lines)
        ca = str(tmp_path / "certs" / "ca.pem")
        assert f"--ca-file {ca}" in output, output
        common = {"host": "127.0.0.1", "username": "demo", "password": "pw"}
        with FtpClient.open(FtpSettings(**common, port=ports[0])) as plain:
            plain.write(b"plain", "p.txt")
        with FtpClient.open(FtpSettings(**common, port=ports[1], tls="explicit", ca_file=ca)) as explicit:
            assert explicit.read("p.txt") == b"plain"
        with FtpClient.open(FtpSettings(**common, port=ports[2], tls="implicit", ca_file=ca)) as implicit:
            assert [i.name for i in implicit.list()] == ["p.txt"]
        assert (tmp_path / "root" / "p.txt").read_bytes() == b"plain"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0  # SIGTERM ends the demo cleanly
