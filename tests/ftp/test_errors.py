"""Bad input and refusals: FileError subclasses that name the path and quote the server."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers.ftp.dispatchers import PassiveDTP

from portway.files import ConnectError, NotFound, PermissionDenied
from portway_ftp.client import FtpClient, is_broken
from portway_ftp.errors import ConnectionLost, DataConnectionFailed, LoginRefused
from portway_ftp.settings import FtpSettings


def test_wrong_password(make_servers: Any) -> None:
    servers = make_servers({"auth_failed_timeout": 0.01})
    with pytest.raises(LoginRefused) as refused:
        servers.open("plain", password="wrong")
    assert refused.value.reply.startswith("530")
    assert "check username and password" in str(refused.value)
    assert refused.value.path == f"ftp://127.0.0.1:{servers.port('plain')}"


def test_wrong_password_on_vsftpd(vsftpd: Any) -> None:
    with pytest.raises(LoginRefused, match="530 Login incorrect"):
        FtpClient.open(vsftpd.settings(password="wrong"))


def test_nothing_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectError, match="connection refused: is the server running"):
        FtpClient.open(FtpSettings(host="127.0.0.1", port=port))


def test_unknown_host() -> None:
    with pytest.raises(ConnectError, match="unknown host 'no-such-host.invalid'"):
        FtpClient.open(FtpSettings(host="no-such-host.invalid", port=21, connect_timeout_s=5))


def test_missing_paths_name_the_path_and_quote_the_reply(servers: Any) -> None:
    with servers.open() as client:
        with pytest.raises(NotFound) as missing:
            client.get_info("/no/such/file.txt")
        assert missing.value.path == "/no/such/file.txt"
        assert missing.value.reply.startswith("550")
        assert missing.value.reply in str(missing.value)
        with pytest.raises(NotFound, match="parent directory /no/such does not exist"):
            client.write(b"x", "/no/such/file.txt")


def test_read_only_user_is_refused(make_servers: Any) -> None:
    authorizer = DummyAuthorizer()
    servers = make_servers({"auth_failed_timeout": 0.01})
    authorizer.add_user("tester", "s3cret-Pass", str(servers.root), perm="elr")
    for server in servers.server._servers:
        server.handler.authorizer = authorizer
    (servers.root / "keep.txt").write_bytes(b"keep")
    with servers.open() as client:
        assert client.read("keep.txt") == b"keep"
        with pytest.raises(PermissionDenied) as refused:
            client.write(b"x", "new.txt")
        assert refused.value.reply.startswith("550")
        with pytest.raises(PermissionDenied):
            client.delete_file("keep.txt")
        assert client.ping() > 0  # refusals do not break the session
    assert sorted(p.name for p in servers.root.iterdir()) == ["keep.txt"]


def test_vsftpd_553_for_a_folder_the_user_cannot_write(vsftpd: Any, vsftpd_dir: Any) -> None:
    local, seen = vsftpd_dir
    (local / "locked").mkdir(mode=0o755)  # owned by root, not by the FTP user
    with FtpClient.open(vsftpd.settings(directory=seen)) as client:
        with pytest.raises(PermissionDenied) as refused:
            client.write(b"x", "locked/file.txt")
        assert refused.value.reply.startswith("553")
        assert refused.value.path == f"{seen}/locked/file.txt"


class _RefusingPassiveDTP(PassiveDTP):  # type: ignore[misc]
    """Announces a data port, then stops listening: what a firewall in between looks like."""

    def __init__(self, cmd_channel: Any, extmode: bool = False) -> None:
        super().__init__(cmd_channel, extmode)
        self.close()


def test_refused_data_connection_suggests_the_other_mode(make_servers: Any) -> None:
    servers = make_servers({"passive_dtp": _RefusingPassiveDTP})
    (servers.root / "a.txt").write_bytes(b"a")
    with servers.open("plain") as client:
        with pytest.raises(DataConnectionFailed) as failed:
            client.read("a.txt")
        assert "passive=false" in str(failed.value)
        assert failed.value.path.endswith("/a.txt")
        assert is_broken(failed.value)  # the pool replaces the client to be safe
    # Active mode: the server connects to us and the transfer works.
    with servers.open("plain", passive=False) as client:
        assert client.read("a.txt") == b"a"
        client.write(b"b", "b.txt")
        assert [i.name for i in client.list()] == ["a.txt", "b.txt"]


def test_active_mode_over_tls(servers: Any) -> None:
    with servers.open("explicit", passive=False) as client:
        client.write(b"active", "act.txt")
        assert client.read("act.txt") == b"active"


def test_dropped_session_is_reported_then_replaced(servers: Any) -> None:
    client = servers.open("plain")
    try:
        client.control.sock.shutdown(socket.SHUT_RDWR)  # the link goes down under the client
        with pytest.raises(ConnectionLost) as lost:
            client.ping()
        assert is_broken(lost.value)
        assert client.ping() > 0  # the next call reconnects
    finally:
        client.close()


def test_session_closed_by_the_server_while_idle_is_reopened(make_servers: Any) -> None:
    servers = make_servers({"timeout": 1})  # pyftpdlib closes sessions idle for 1 s (421)
    with servers.open("plain") as client:
        client.write(b"1", "one.txt")
        time.sleep(2.5)
        assert client.read("one.txt") == b"1"  # reconnected and repeated once
        time.sleep(2.5)
        assert [i.name for i in client.list()] == ["one.txt"]


def test_not_found_does_not_break_the_client(servers: Any) -> None:
    with servers.open() as client, pytest.raises(NotFound) as missing:
        client.read("nope")
    assert not is_broken(missing.value)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"host": ""}, "host"),
        ({"host": "h", "port": 70000}, "port"),
        ({"host": "h", "tls": "sometimes"}, "tls"),
        ({"host": "h", "encoding": "klingon"}, "encoding"),
        ({"host": "h", "ping_command": "NOOP\r\nDELE x"}, "ping_command"),
        ({"host": "h", "block_size": 10}, "block_size"),
        ({"host": "h", "ca_file": "/x.pem"}, "need tls"),
        ({"host": "h", "tls": "explicit", "key_file": "/k.pem"}, "key_file needs cert_file"),
    ],
)
def test_bad_settings_are_refused_with_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as bad:
        FtpSettings.model_validate(settings)
    assert field in str(bad.value)


def test_default_ports() -> None:
    assert FtpSettings(host="h").effective_port == 21
    assert FtpSettings(host="h", tls="explicit").effective_port == 21
    assert FtpSettings(host="h", tls="implicit").effective_port == 990
    assert FtpSettings(host="h", tls="implicit", port=2990).effective_port == 2990


def test_line_breaks_in_paths_are_refused(servers: Any, tmp_path: Path) -> None:
    with servers.open() as client, pytest.raises(Exception, match="line breaks"):
        client.read("a\r\nDELE b")
