"""Logging in, host keys, ssh config and options, and connect failures in plain words."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from portway.files import ConnectError
from portway_sftp.client import SftpClient
from portway_sftp.failures import (
    AuthenticationFailed,
    ConnectionRefused,
    ConnectTimedOut,
    HostKeyRejected,
    HostNotFound,
)
from portway_sftp.settings import SftpSettings


def _open(**settings: Any) -> SftpClient:
    return SftpClient.open(SftpSettings(**settings))


def test_key_login(sshd: Any) -> None:
    with _open(**sshd.settings()) as client:
        assert client.home() == "/root"
        assert client.transport.remote_cipher == "aes128-gcm@openssh.com"


def test_inline_key_login(sshd: Any) -> None:
    inline = sshd.user_key.read_text()
    with _open(**sshd.settings(private_key_file=None, private_key=inline)) as client:
        assert client.is_directory("/")


def test_encrypted_key_needs_the_right_passphrase(sshd: Any) -> None:
    settings = sshd.settings(private_key_file=str(sshd.encrypted_key))
    with _open(**settings, passphrase=sshd.passphrase) as client:
        assert client.is_directory("/")
    with pytest.raises(AuthenticationFailed, match="encrypted; set passphrase") as caught:
        _open(**settings)
    assert caught.value.path == str(sshd.encrypted_key)
    with pytest.raises(AuthenticationFailed, match="passphrase is wrong"):
        _open(**settings, passphrase="not it")
    inline = sshd.encrypted_key.read_text()
    with _open(**sshd.settings(private_key_file=None, private_key=inline, passphrase=sshd.passphrase)) as c:
        assert c.is_directory("/")


def test_password_login_and_wrong_password(sshd: Any) -> None:
    if sshd.password_user is None:
        pytest.skip("could not create a local user with a password (useradd/chpasswd)")
    settings = sshd.settings(username=sshd.password_user, private_key_file=None)
    with _open(**settings, password=sshd.password) as client:
        assert client.home() == f"/home/{sshd.password_user}"
    with pytest.raises(AuthenticationFailed) as caught:
        _open(**settings, password="wrong")
    assert "authentication failed for user" in caught.value.reason
    assert "password" in caught.value.reason
    assert caught.value.path == f"127.0.0.1:{sshd.port}"


def test_no_credentials_is_explained(sshd: Any, tmp_path: Path) -> None:
    with pytest.raises(AuthenticationFailed, match="no password or private key"):
        _open(**sshd.settings(private_key_file=None, ssh_config_file=str(_empty_config(tmp_path))))


def _empty_config(tmp_path: Path) -> Path:
    path = tmp_path / "empty_config"
    path.write_text("")
    return path


def test_unknown_host_refused_when_strict(sshd: Any, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    with pytest.raises(HostKeyRejected) as caught:
        _open(**sshd.settings(known_hosts_file=str(empty)))
    assert "is not in" in caught.value.reason and "ssh-keyscan" in caught.value.reason
    assert "SHA256:" in caught.value.reason
    assert not empty.exists()  # strict never writes


def test_hashed_known_hosts_entries_work(sshd: Any, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts.read_text())
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(known)], check=True, capture_output=True)
    assert "127.0.0.1" not in known.read_text()  # really hashed
    with _open(**sshd.settings(known_hosts_file=str(known))) as client:
        assert client.is_directory("/")


def test_accept_new_records_the_key_then_checks_it(sshd: Any, tmp_path: Path) -> None:
    known = tmp_path / "ssh" / "known_hosts"
    with _open(**sshd.settings(known_hosts_file=str(known), host_key_policy="accept-new")) as c:
        assert c.is_directory("/")
    line = known.read_text()
    assert line.startswith(f"[127.0.0.1]:{sshd.port} ssh-ed25519 ")
    assert line.split()[2] == sshd.host_key.with_suffix(".pub").read_text().split()[1]
    with _open(**sshd.settings(known_hosts_file=str(known))) as c:  # strict now passes
        assert c.is_directory("/")


def test_changed_host_key_is_refused_even_with_accept_new(sshd: Any, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, key = other.with_suffix(".pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {kind} {key}\n")
    for policy in ("strict", "accept-new"):
        with pytest.raises(HostKeyRejected, match="HOST KEY MISMATCH") as caught:
            _open(**sshd.settings(known_hosts_file=str(known), host_key_policy=policy))
        assert caught.value.path == f"127.0.0.1:{sshd.port}"
    assert known.read_text() == f"[127.0.0.1]:{sshd.port} {kind} {key}\n"


def test_unknown_host_name() -> None:
    with pytest.raises(HostNotFound, match="cannot resolve host name"):
        _open(host="no-such-host.invalid", username="x", password="x")


def test_refused_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(ConnectionRefused, match="connection refused"):
            _open(host="127.0.0.1", port=port, username="x", password="x")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for sock in held:
        sock.close()
    server.close()


def test_timeout_in_handshake(silent_server: int) -> None:
    with pytest.raises(ConnectTimedOut, match="no answer within 1 s"):
        _open(host="127.0.0.1", port=silent_server, username="x", password="x", connect_timeout=1)


def test_connect_errors_are_file_errors(sshd: Any) -> None:
    assert issubclass(HostKeyRejected, ConnectError)
    assert issubclass(AuthenticationFailed, ConnectError)


def test_ssh_config_host_alias(sshd: Any, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host bank\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User root\n  IdentityFile {sshd.user_key}\n"
        f"  UserKnownHostsFile {sshd.known_hosts}\n"
    )
    settings = {"host": "bank", "ssh_config_file": str(config)}
    with _open(**settings) as client:
        assert client.endpoint.hostname == "127.0.0.1"
        assert client.endpoint.port == sshd.port
        assert client.home() == "/root"


def test_proxy_jump_through_the_same_sshd(sshd: Any) -> None:
    jump = f"root@127.0.0.1:{sshd.port}"
    import paramiko

    with _open(**sshd.settings(ssh_options=[f"ProxyJump={jump}"])) as client:
        assert client.home() == "/root"
        tunnel = client.transport.sock
        assert isinstance(tunnel, paramiko.Channel)  # the SSH stream runs inside the jump connection
        jump_transport = tunnel.get_transport()
        assert jump_transport.is_active()
    assert not jump_transport.is_active()  # closed with the client


def test_proxy_jump_with_two_hops_visits_them_in_order(sshd: Any) -> None:
    import paramiko

    hops = f"root@127.0.0.1:{sshd.port},ssh://127.0.0.1:{sshd.port}"
    with _open(**sshd.settings(ssh_options=[f"ProxyJump={hops}"])) as client:
        assert client.home() == "/root"
        second = client.transport.sock.get_transport()  # the last hop, which opened the tunnel
        assert isinstance(second.sock, paramiko.Channel)  # itself reached through the first hop
        first = second.sock.get_transport()
        assert isinstance(first.sock, socket.socket)
        assert first.is_active() and second.is_active()
    assert not first.is_active() and not second.is_active()  # the whole chain closed with the client


def test_a_bad_proxy_jump_hop_is_refused_with_the_settings(sshd: Any) -> None:
    with pytest.raises(ValidationError, match="ProxyJump hop 'jump:ssh'"):
        SftpSettings(**sshd.settings(ssh_options=["ProxyJump=ok.example,jump:ssh"]))
    with pytest.raises(ValidationError, match="ProxyJump hop ''"):
        SftpSettings(**sshd.settings(ssh_options=["ProxyJump=a.example,,b.example"]))


def test_ssh_options_are_honoured_or_refused_by_name(sshd: Any) -> None:
    with _open(**sshd.settings(ssh_options=["Ciphers=aes256-ctr", "ServerAliveInterval=15"])) as client:
        assert client.transport.remote_cipher == "aes256-ctr"
    with pytest.raises(ValidationError, match="ForwardAgent"):
        SftpSettings(**sshd.settings(ssh_options=["ForwardAgent=yes"]))
    with pytest.raises(ValidationError, match="never connects to a host whose key"):
        SftpSettings(**sshd.settings(ssh_options=["StrictHostKeyChecking=no"]))
    with pytest.raises(ConnectionRefused, match="Ciphers=chacha20"):
        _open(**sshd.settings(ssh_options=["Ciphers=chacha20-poly1305@openssh.com"]))


def test_ping_through_the_connection_type(sshd: Any) -> None:
    from portway_sftp.plugin import CONNECTION_TYPE

    client = CONNECTION_TYPE.connect(SftpSettings(**sshd.settings()))
    try:
        CONNECTION_TYPE.ping(client)
        assert client.ping() > 0
    finally:
        CONNECTION_TYPE.close(client)
