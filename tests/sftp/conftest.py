"""A real OpenSSH sshd on 127.0.0.1 for the SFTP tests.

It runs as root from a temporary folder with its own host key, config and
authorized keys; a local user with a known password is created for the
password tests. Without root or without /usr/sbin/sshd the tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SSHD = "/usr/sbin/sshd"
TEST_USER = "portway-sftp-test"
TEST_PASSWORD = "Corr3ct-h0rse-battery"
PASSPHRASE = "open sesame"


@dataclass(frozen=True)
class SshServer:
    """Everything a test needs to reach the sshd."""

    port: int
    folder: Path
    host_key: Path
    known_hosts: Path
    user_key: Path
    encrypted_key: Path
    pid: int
    password_user: str | None
    password: str = TEST_PASSWORD
    passphrase: str = PASSPHRASE

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings for root with the plain key; override any field."""
        base: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "username": "root",
            "private_key_file": str(self.user_key),
            "known_hosts_file": str(self.known_hosts),
        }
        base.update(overrides)
        return base

    def sftp_command(self, *extra: str) -> list[str]:
        """The OpenSSH sftp client, logged in the same way."""
        return [
            "sftp",
            "-q",
            "-i",
            str(self.user_key),
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "BatchMode=yes",
            "-P",
            str(self.port),
            *extra,
            "root@127.0.0.1",
        ]

    def session_pids(self) -> list[int]:
        """Per-connection sshd processes (children of the listener)."""
        out = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path, passphrase: str = "") -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(path), "-C", path.name], check=True
    )


def _password_user() -> str | None:
    """Create the test user with a known password; None when we cannot."""
    if not shutil.which("useradd") or not shutil.which("chpasswd"):
        return None
    exists = subprocess.run(["id", TEST_USER], capture_output=True).returncode == 0
    if not exists:
        made = subprocess.run(["useradd", "-m", "-s", "/bin/sh", TEST_USER], capture_output=True)
        if made.returncode != 0:
            return None
    done = subprocess.run(
        ["chpasswd"], input=f"{TEST_USER}:{TEST_PASSWORD}\n", text=True, capture_output=True
    )
    return TEST_USER if done.returncode == 0 else None


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    if not os.path.exists(SSHD):
        pytest.skip("OpenSSH server is not installed (apt-get install openssh-server)")
    if os.geteuid() != 0:
        pytest.skip("the test sshd must run as root to log users in")
    if not shutil.which("sftp") or not shutil.which("ssh-keygen"):
        pytest.skip("the OpenSSH client (sftp, ssh-keygen) is not installed")
    folder = tmp_path_factory.mktemp("sshd")
    host_key = folder / "host_key"
    user_key = folder / "user_key"
    encrypted_key = folder / "user_key_encrypted"
    _keygen(host_key)
    _keygen(user_key)
    _keygen(encrypted_key, PASSPHRASE)
    authorized = folder / "authorized_keys"
    authorized.write_text(
        (folder / "user_key.pub").read_text() + (folder / "user_key_encrypted.pub").read_text()
    )
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {folder}/sshd.pid\n"
        f"UsePAM no\nAuthorizedKeysFile {authorized}\nStrictModes no\nPasswordAuthentication yes\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin yes\nSubsystem sftp internal-sftp\n"
        "MaxStartups 100\nMaxSessions 100\nLogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    with (folder / "sshd.log").open("w") as sshd_log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=sshd_log
        )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"sshd did not start: {(folder / 'sshd.log').read_text()}")
            time.sleep(0.05)
    host_public = (folder / "host_key.pub").read_text().split()
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_public[0]} {host_public[1]}\n")
    try:
        yield SshServer(
            port=port,
            folder=folder,
            host_key=host_key,
            known_hosts=known_hosts,
            user_key=user_key,
            encrypted_key=encrypted_key,
            pid=process.pid,
            password_user=_password_user(),
        )
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def remote_dir(tmp_path: Path) -> Path:
    """A fresh folder the tests use as the remote side (same machine, seen through sshd)."""
    folder = tmp_path / "remote"
    folder.mkdir()
    return folder


@pytest.fixture
def client(sshd: SshServer) -> Iterator[Any]:
    from portway_sftp.client import SftpClient
    from portway_sftp.settings import SftpSettings

    with SftpClient.open(SftpSettings(**sshd.settings())) as opened:
        yield opened
