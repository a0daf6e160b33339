"""A small SFTP server for trying portway-sftp with no setup (``make demo``).

    python -m portway_sftp.demo_server --root DIR --port 2222 --user demo --password demo

It serves DIR as ``/`` to one user with a password, over paramiko. On start
it writes its host key (kept across restarts) and a ready known_hosts line
to the state folder (``--state-dir``, default ``~/.cache/portway/sftp-demo``):

- ``host_key``: the server's private Ed25519 key;
- ``known_hosts``: ``[HOST]:PORT ssh-ed25519 AAAA...``: point a connection's
  ``known_hosts_file`` at it and the strict host key check passes.

It is for demos and tests only: one process, a thread per client, no
chroot beyond path checks, no limits.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
import structlog
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)
from paramiko.sftp import SFTP_FAILURE, SFTP_OK, SFTP_PERMISSION_DENIED

log = structlog.get_logger("portway.sftp.demo")
DEFAULT_STATE = Path("~/.cache/portway/sftp-demo")


class _Auth(paramiko.ServerInterface):
    """Password login for one user; only the sftp subsystem on session channels."""

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.password = password

    def check_auth_password(self, username: str, password: str) -> int:
        ok = username == self.user and password == self.password
        log.info("demo_login", user=username, ok=ok)
        return AUTH_SUCCESSFUL if ok else AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(SFTPHandle):
    def stat(self) -> SFTPAttributes | int:
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))  # type: ignore[attr-defined]
        except OSError as exc:
            return _status(exc)

    def chattr(self, attr: SFTPAttributes) -> int:
        try:
            SFTPServer.set_file_attr(self.filename, attr)  # type: ignore[attr-defined]
        except OSError as exc:
            return _status(exc)
        return SFTP_OK


class _Folder(SFTPServerInterface):
    """Serves one local folder as ``/``; paths outside it are refused."""

    root: Path

    def __init__(self, server: Any, *args: Any, root: Path, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.root = root

    def _local(self, path: str) -> str:
        virtual = os.path.normpath("/" + path.lstrip("/"))
        local = os.path.realpath(os.path.join(self.root, virtual.lstrip("/")))
        if local != str(self.root) and not local.startswith(str(self.root) + os.sep):
            # A symlink that leads out of the root: serve the link's own path instead.
            return os.path.join(self.root, virtual.lstrip("/"))
        return local

    def _unresolved(self, path: str) -> str:
        virtual = os.path.normpath("/" + path.lstrip("/"))
        return os.path.join(self.root, virtual.lstrip("/"))

    def canonicalize(self, path: str) -> str:
        return os.path.normpath("/" + path.lstrip("/")) if path not in ("", ".") else "/"

    def list_folder(self, path: str) -> list[SFTPAttributes] | int:
        folder = self._local(path)
        try:
            names = os.listdir(folder)
            out = []
            for name in names:
                attr = SFTPAttributes.from_stat(os.lstat(os.path.join(folder, name)))
                attr.filename = name
                out.append(attr)
            return out
        except OSError as exc:
            return _status(exc)

    def stat(self, path: str) -> SFTPAttributes | int:
        try:
            return SFTPAttributes.from_stat(os.stat(self._local(path)))
        except OSError as exc:
            return _status(exc)

    def lstat(self, path: str) -> SFTPAttributes | int:
        try:
            return SFTPAttributes.from_stat(os.lstat(self._unresolved(path)))
        except OSError as exc:
            return _status(exc)

    def open(self, path: str, flags: int, attr: SFTPAttributes) -> SFTPHandle | int:
        local = self._local(path)
        mode = attr.st_mode if attr is not None and attr.st_mode is not None else 0o666
        try:
            fd = os.open(local, flags | getattr(os, "O_BINARY", 0), mode & 0o7777)
        except OSError as exc:
            return _status(exc)
        if flags & os.O_WRONLY:
            fmode = "ab" if flags & os.O_APPEND else "wb"
        elif flags & os.O_RDWR:
            fmode = "a+b" if flags & os.O_APPEND else "r+b"
        else:
            fmode = "rb"
        try:
            f = os.fdopen(fd, fmode)
        except OSError as exc:
            return _status(exc)
        handle = _Handle(flags)
        handle.filename = local  # type: ignore[attr-defined]
        handle.readfile = f  # type: ignore[attr-defined]
        handle.writefile = f  # type: ignore[attr-defined]
        return handle

    def remove(self, path: str) -> int:
        return _errno(os.remove, self._unresolved(path))

    def rename(self, oldpath: str, newpath: str) -> int:
        if os.path.exists(self._unresolved(newpath)):
            return SFTP_FAILURE  # plain SFTP rename never replaces
        return _errno(os.rename, self._unresolved(oldpath), self._unresolved(newpath))

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        return _errno(os.replace, self._unresolved(oldpath), self._unresolved(newpath))

    def mkdir(self, path: str, attr: SFTPAttributes) -> int:
        return _errno(os.mkdir, self._unresolved(path))

    def rmdir(self, path: str) -> int:
        return _errno(os.rmdir, self._unresolved(path))

    def chattr(self, path: str, attr: SFTPAttributes) -> int:
        try:
            SFTPServer.set_file_attr(self._local(path), attr)
        except OSError as exc:
            return _status(exc)
        return SFTP_OK

    def symlink(self, target_path: str, path: str) -> int:
        if target_path.startswith("/"):
            return SFTP_PERMISSION_DENIED  # absolute targets would point outside the root
        return _errno(os.symlink, target_path, self._unresolved(path))

    def readlink(self, path: str) -> str | int:
        try:
            return os.readlink(self._unresolved(path))
        except OSError as exc:
            return _status(exc)


def _status(exc: OSError) -> int:
    return int(SFTPServer.convert_errno(exc.errno or errno.EIO))


def _errno(call: Any, *args: str) -> int:
    try:
        call(*args)
    except OSError as exc:
        return _status(exc)
    return SFTP_OK


def load_or_create_host_key(path: Path) -> paramiko.PKey:
    """The demo's Ed25519 host key, made once and kept so known_hosts stays valid."""
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        text = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(text)
    return paramiko.Ed25519Key.from_private_key_file(str(path))


class DemoServer:
    """Listens on ``host:port``; each client gets a thread and its own transport."""

    def __init__(self, root: Path, host: str, port: int, user: str, password: str, state_dir: Path) -> None:
        self.root = root.resolve()
        self.user = user
        self.password = password
        self.host_key = load_or_create_host_key(state_dir / "host_key")
        self.listener = socket.create_server((host, port), reuse_port=False)
        self.host, self.port = self.listener.getsockname()[:2]
        self.known_hosts = state_dir / "known_hosts"
        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        self.known_hosts.write_text(f"{name} {self.host_key.get_name()} {self.host_key.get_base64()}\n")
        self._stop = threading.Event()

    def serve_forever(self) -> None:
        self.listener.settimeout(0.5)
        while not self._stop.is_set():
            try:
                sock, address = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            threading.Thread(target=self._serve, args=(sock, address), daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()

    def _serve(self, sock: socket.socket, address: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = paramiko.Transport(sock)
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler("sftp", SFTPServer, _Folder, root=self.root)
        try:
            transport.start_server(server=_Auth(self.user, self.password))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.info("demo_client_failed", client=str(address), reason=str(exc))
            return
        log.info("demo_client", client=str(address))
        while transport.is_active() and not self._stop.is_set():
            transport.join(0.5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a folder over SFTP for portway demos.")
    parser.add_argument("--root", required=True, type=Path, help="folder served as /")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2222, help="TCP port (0: pick a free one)")
    parser.add_argument("--user", default="demo", help="the one user name (default demo)")
    parser.add_argument("--password", default="demo", help="its password (default demo)")
    parser.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE, help="where host_key and known_hosts are written"
    )
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"--root {args.root} is not a folder; create it first")
    state = args.state_dir.expanduser()
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    server = DemoServer(args.root, args.host, args.port, args.user, args.password, state)
    log.info(
        "demo_sftp_listening",
        address=f"{server.host}:{server.port}",
        root=str(server.root),
        user=args.user,
        known_hosts=str(server.known_hosts),
        fingerprint=_fingerprint(server.host_key),
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


def _fingerprint(key: paramiko.PKey) -> str:
    from portway_sftp.hostkeys import fingerprint_of

    return fingerprint_of(key)


if __name__ == "__main__":
    main()
