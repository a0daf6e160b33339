"""Real FTP servers for the ftp plugin's tests.

* pyftpdlib in this process (the demo server's building blocks): plain FTP,
  explicit FTPS and implicit FTPS, each on a free port of 127.0.0.1, with a
  CA and server certificate made for the test session;
* vsftpd (``/usr/sbin/vsftpd``) as a subprocess with ``ssl_enable=YES``,
  ``require_ssl_reuse=YES`` and a local test user; it needs root (to create
  the user and for vsftpd's privilege separation) and is skipped otherwise.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portway_ftp.certificates import CertificateFiles, make_certificates
from portway_ftp.client import FtpClient
from portway_ftp.demo_server import DemoServer, HandlerOptions
from portway_ftp.settings import FtpSettings

USER = "tester"
PASSWORD = "s3cret-Pass"
VSFTPD = "/usr/sbin/vsftpd"
VSFTPD_USER = "portway-ftp-test"

logging.getLogger("pyftpdlib").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    """A CA and a server certificate for localhost and 127.0.0.1."""
    return make_certificates(tmp_path_factory.mktemp("certs"))


@dataclass
class Servers:
    """pyftpdlib listeners over one root folder; ``settings(name)`` for a client."""

    root: Path
    certs: CertificateFiles
    server: DemoServer

    def port(self, name: str) -> int:
        return self.server.ports[name]

    def settings(self, name: str = "plain", **overrides: Any) -> FtpSettings:
        tls = {"explicit": "explicit", "implicit": "implicit"}.get(name, "none")
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port(name),
            "username": USER,
            "password": PASSWORD,
            "tls": tls,
            "timeout_s": 10,
            "connect_timeout_s": 10,
        }
        if tls != "none":
            values["ca_file"] = str(self.certs.ca_file)
        values.update(overrides)
        return FtpSettings.model_validate(values)

    def open(self, name: str = "plain", **overrides: Any) -> FtpClient:
        return FtpClient.open(self.settings(name, **overrides))


ServerFactory = Callable[..., Servers]


@pytest.fixture
def portway_env(tmp_path: Path, certs: CertificateFiles) -> Any:
    """portway.testing's environment, whose connections may name the test certificates."""
    from portway import environment
    from portway.testing import allow_files, free_port

    return allow_files(environment.create(tmp_path / "env", port=free_port()), certs.ca_file.parent)


@pytest.fixture
def make_servers(tmp_path: Path, certs: CertificateFiles) -> Iterator[ServerFactory]:
    """``make_servers(**handler_extra)``: start the listeners, stopped after the test.

    Listeners: ``plain``, ``explicit``, ``implicit`` and ``listonly`` (plain
    FTP without MLSD/MLST, like an old server).
    """
    started: list[DemoServer] = []

    def make(extra: dict[str, Any] | None = None, root: Path | None = None) -> Servers:
        served = root or tmp_path / "root"
        served.mkdir(exist_ok=True)
        server = DemoServer()
        options = {"root": served, "user": USER, "password": PASSWORD, "certificates": certs}
        more = extra or {}
        server.listen("plain", HandlerOptions(**options, extra=more))
        server.listen("explicit", HandlerOptions(**options, tls="explicit", extra=more))
        server.listen("implicit", HandlerOptions(**options, tls="implicit", extra=more))
        server.listen("listonly", HandlerOptions(**options, mlsd=False, extra=more))
        started.append(server.start())
        return Servers(served, certs, server)

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def servers(make_servers: ServerFactory) -> Servers:
    return make_servers()


# -- vsftpd ---------------------------------------------------------------


@dataclass
class Vsftpd:
    """A running vsftpd: FTPS only (explicit), session reuse required."""

    root: Path
    port: int
    certs: CertificateFiles
    password: str

    def settings(self, directory: str = "", **overrides: Any) -> FtpSettings:
        values: dict[str, Any] = {
            "host": "localhost",
            "port": self.port,
            "username": VSFTPD_USER,
            "password": self.password,
            "tls": "explicit",
            "ca_file": str(self.certs.ca_file),
            "directory": directory,
            "timeout_s": 10,
            "connect_timeout_s": 10,
        }
        values.update(overrides)
        return FtpSettings.model_validate(values)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vsftpd exited with {process.returncode}: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"vsftpd did not listen on {port} within 10s")


@pytest.fixture(scope="session")
def vsftpd(tmp_path_factory: pytest.TempPathFactory, certs: CertificateFiles) -> Iterator[Vsftpd]:
    """vsftpd with ssl_enable=YES and require_ssl_reuse=YES, chrooted to a fresh folder."""
    if not Path(VSFTPD).exists():
        pytest.skip(f"{VSFTPD} is not installed (Debian package vsftpd)")
    if os.geteuid() != 0:
        pytest.skip("vsftpd tests need root: they add a local user and vsftpd drops privileges")
    if shutil.which("useradd") is None or shutil.which("chpasswd") is None:
        pytest.skip("useradd/chpasswd are missing (package passwd)")
    created = subprocess.run(["id", VSFTPD_USER], capture_output=True).returncode != 0
    if created:
        subprocess.run(["useradd", "-M", "-d", "/", "-s", "/bin/sh", VSFTPD_USER], check=True)
    password = secrets.token_urlsafe(12)
    subprocess.run(["chpasswd"], input=f"{VSFTPD_USER}:{password}".encode(), check=True)
    # Not under pytest's temp folder: that one is 0700 and the FTP user must reach its root.
    base = Path(tempfile.mkdtemp(prefix="portway-vsftpd-"))
    base.chmod(0o755)
    root = base / "root"
    root.mkdir()
    shutil.chown(root, VSFTPD_USER)
    empty = base / "empty"
    empty.mkdir()
    port = _free_port()
    log = base / "vsftpd.log"
    config = base / "vsftpd.conf"
    config.write_text(
        "\n".join(
            [
                "listen=YES",
                "listen_ipv6=NO",
                "listen_address=127.0.0.1",
                f"listen_port={port}",
                "background=NO",
                "anonymous_enable=NO",
                "local_enable=YES",
                "write_enable=YES",
                "local_umask=022",
                f"local_root={root}",
                "chroot_local_user=YES",
                "allow_writeable_chroot=YES",
                "pam_service_name=vsftpd",
                f"secure_chroot_dir={empty}",
                "seccomp_sandbox=NO",
                "ssl_enable=YES",
                "require_ssl_reuse=YES",
                "force_local_logins_ssl=YES",
                "force_local_data_ssl=YES",
                f"rsa_cert_file={certs.cert_file}",
                f"rsa_private_key_file={certs.key_file}",
                "pasv_enable=YES",
                "pasv_address=127.0.0.1",
                "chmod_enable=YES",
                "xferlog_enable=NO",
                f"vsftpd_log_file={log}",
                "",
            ]
        )
    )
    process = subprocess.Popen([VSFTPD, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process, log)
        yield Vsftpd(root, port, certs, password)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
        if created:
            subprocess.run(["userdel", VSFTPD_USER], check=False)


@pytest.fixture
def vsftpd_dir(vsftpd: Vsftpd, request: pytest.FixtureRequest) -> tuple[Path, str]:
    """A fresh folder in vsftpd's root for one test: (local path, path as the FTP user sees it)."""
    name = f"t{secrets.token_hex(4)}"
    local = vsftpd.root / name
    local.mkdir()
    shutil.chown(local, VSFTPD_USER)
    return local, f"/{name}"
