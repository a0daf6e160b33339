"""An FTP/FTPS session offering the shared file API (:class:`portway.files.FileClient`).

Every path is made absolute against the login directory before it is sent,
so the server's working directory never matters and a script's ``cd`` is
kept by the script interpreter, not by the connection.
"""

from __future__ import annotations

import builtins
import contextlib
import ftplib
import io
import os
import posixpath
import secrets
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import structlog

from portway import filescript, filetree
from portway.files import (
    AlreadyExists,
    ConnectError,
    FileError,
    FileInfo,
    FileKind,
    IsADirectory,
    NotADirectory,
    NotFound,
    Unsupported,
    parse_mode,
)
from portway_ftp import transfer
from portway_ftp.control import ControlConnection
from portway_ftp.errors import (
    ConnectionLost,
    DataConnectionFailed,
    LoginRefused,
    ServerRefused,
    TlsRefused,
    data_connection_failed,
    from_reply,
    reply_code,
    unsupported,
    with_reply,
)
from portway_ftp.listing import child_path, fact_time, parse_facts, parse_list_line
from portway_ftp.settings import FtpSettings, TlsMode
from portway_ftp.tls import certificate_error, make_context

log = structlog.get_logger("portway.ftp")

_WANTED_FACTS = ("type", "size", "modify", "unix.mode", "unix.owner", "unix.group", "unix.uid", "unix.gid")
_DRAIN_TIMEOUT_S = 10.0
_RETRY_AFTER_IDLE_S = 1.0


class FtpClient:
    """A logged-in FTP or FTPS session. Open with :meth:`open`, release with :meth:`close`.

    Not thread-safe: one caller at a time (the pool lends each client to one
    service call).
    """

    def __init__(self, settings: FtpSettings, control: ControlConnection, features: dict[str, str]) -> None:
        self.settings = settings
        self.control = control
        self.features = features
        self._mlsd = "MLST" in features
        self._dead = False
        self._closed = False
        self._last_used = time.monotonic()
        self._home = "/"

    # -- lifecycle ------------------------------------------------------

    @classmethod
    def open(cls, settings: FtpSettings) -> FtpClient:
        """Connect, secure, log in and change to ``settings.directory``.

        Raises :class:`~portway.files.ConnectError` subclasses that say what
        went wrong: :class:`LoginRefused`, :class:`CertificateRejected`,
        :class:`TlsRefused`, or the socket error.
        """
        address = settings.address
        context = make_context(settings) if settings.tls is not TlsMode.NONE else None
        control = ControlConnection(
            context,
            implicit=settings.tls is TlsMode.IMPLICIT,
            encoding=settings.encoding,
            timeout=settings.connect_timeout_s,
        )
        control.set_pasv(settings.passive)
        try:
            control.connect(settings.host, settings.effective_port)
            if settings.tls is TlsMode.EXPLICIT:
                _secure(control, address)
            _login(control, settings)
            if context is not None:
                _protect_data(control, address)
            features = _features(control)
            client = cls(settings, control, features)
            client._setup()
        except BaseException as exc:
            control.close()
            if isinstance(exc, FileError) or not isinstance(exc, Exception):
                raise  # ours already, or KeyboardInterrupt and the like
            raise _connect_error(settings, exc) from exc
        control.timeout = settings.timeout_s
        control.set_timeout(settings.timeout_s)
        log.debug("ftp_connected", server=address, home=client._home, mlsd=client._mlsd)
        return client

    def _setup(self) -> None:
        control, settings = self.control, self.settings
        if "UTF8" in self.features or settings.latin1_fallback:
            try:
                control.sendcmd("OPTS UTF8 ON")
            except ftplib.Error:
                if settings.latin1_fallback and "UTF8" not in self.features:
                    control.use_encoding("latin-1")
        if self._mlsd:
            offered = [f.rstrip("*").lower() for f in self.features["MLST"].split(";") if f]
            wanted = [f for f in _WANTED_FACTS if f in offered]
            with contextlib.suppress(ftplib.Error):
                control.sendcmd("OPTS MLST " + "".join(f + ";" for f in wanted))
        control.voidcmd("TYPE I")
        if settings.directory:
            try:
                control.cwd(settings.directory)
            except ftplib.Error as exc:
                raise with_reply(
                    NotFound(
                        settings.directory,
                        f"setting 'directory': cannot change to it: {exc}; give an existing directory",
                    ),
                    str(exc),
                ) from exc
        self._home = _parse_pwd(control.sendcmd("PWD")) or "/"

    def close(self) -> None:
        """Say QUIT (briefly) and close the sockets; never raises."""
        if not self._dead:
            try:
                self.control.set_timeout(min(self.settings.timeout_s, 5.0))
                self.control.quit()
            except (OSError, EOFError, ftplib.Error) as exc:
                log.debug("ftp_quit_failed", server=self.settings.address, reason=str(exc))
        self._dead = True
        self._closed = True
        self.control.close()

    def __enter__(self) -> FtpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def is_dead(self) -> bool:
        """True when the control connection failed (the next command reconnects) or was closed."""
        return self._dead

    def ping(self) -> float:
        """Send the ping command (NOOP by default); return the round trip in milliseconds."""
        started = time.perf_counter()
        self._command("ping", self.settings.address, self.settings.ping_command)
        return (time.perf_counter() - started) * 1000

    # -- script and tree support -----------------------------------------

    def execute(self, script: str) -> str:
        """Run an ``sftp -b`` style batch script; return its transcript.

        Raises :class:`portway.filescript.ScriptFailed` (a FileError) at the
        first failing command not prefixed by ``-``.
        """
        return str(filescript.run_script(self, script, prompt="ftp"))

    def home(self) -> str:
        """The directory the session started in (after ``settings.directory``)."""
        return self._home

    def realpath(self, remote: str) -> str:
        """The server's canonical path: CWD into a directory and PWD; files keep their name."""
        path = self._abs(remote)
        try:
            self._command("resolve", path, f"CWD {path}")
        except FileError:
            parent = posixpath.dirname(path)
            if parent == path:
                raise
            return child_path(self.realpath(parent), posixpath.basename(path))
        return _parse_pwd(self._command("resolve", path, "PWD")) or path

    def disk_usage(self, remote: str) -> filescript.DiskUsage:
        """FTP has no command for free space."""
        raise unsupported(self._abs(remote), "FTP has no command to report disk usage")

    # -- reading --------------------------------------------------------

    def read(self, remote: str) -> bytes:
        """Return a remote file's contents."""
        path = self._abs(remote)
        out = io.BytesIO()
        self._retrieve(path, "download", out.write)
        return out.getvalue()

    def download_file(self, remote: str, local: str | Path, *, preserve: bool | None = None) -> None:
        """Download one file; the local file appears whole or not at all.

        ``preserve`` copies the remote modification time and mode to the local file.
        """
        path = self._abs(remote)
        target = Path(local)
        if target.is_dir():
            target = target / posixpath.basename(path)
        temp = target.with_name(f".{target.name[:200]}.{secrets.token_hex(4)}.portway-part")
        try:
            with open(temp, "wb") as out:
                self._retrieve(path, "download", out.write)
            if preserve:
                self._copy_times(path, temp)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def download(self, remote: str, local: str | Path, *, preserve: bool | None = None) -> None:
        """Download a file or, recursively, a directory; each file appears whole or not at all."""
        filetree.download(self, self._abs(remote), local, preserve=preserve)

    def get_info(self, remote: str) -> FileInfo:
        """Describe one entry (MLST, or the parent's LIST when the server has no MLST)."""
        path = self._abs(remote)
        if path == "/":
            return FileInfo(name="/", path="/", kind=FileKind.DIR)
        if self._mlsd:
            reply = self._command("stat", path, f"MLST {path}")
            for line in reply.splitlines()[1:]:
                if line.startswith(" "):
                    info = parse_facts(line, "")
                    if info is not None:
                        return _placed(info, path)
            raise with_reply(ServerRefused(path, f"stat: no facts in the MLST reply: {reply}"), reply)
        parent, name = posixpath.split(path)
        try:
            entries = self._list_plain(parent)
        except (NotFound, NotADirectory) as exc:
            raise with_reply(NotFound(path, exc.reason), getattr(exc, "reply", None)) from exc
        for info in entries:
            if info.name == name:
                return info
        raise with_reply(NotFound(path, f"no entry named {name!r} in {parent}"), None)

    def is_directory(self, remote: str) -> bool:
        return self._kind(remote) is FileKind.DIR

    def is_file(self, remote: str) -> bool:
        return self._kind(remote) is FileKind.FILE

    def is_symlink(self, remote: str) -> bool:
        return self._kind(remote) is FileKind.SYMLINK

    def list(self, remote: str = ".") -> builtins.list[FileInfo]:
        """Entries of a directory (MLSD, else LIST), without ``.`` and ``..``, sorted by name."""
        path = self._abs(remote)
        if self._mlsd:
            try:
                lines = self._data_lines(f"MLSD {path}", "list", path)
            except Unsupported:
                self._mlsd = False  # advertised but refused: old server; LIST from now on
            except FileError as exc:
                _narrowed(self._why_not_listed(exc, path), exc)
            else:
                found = (parse_facts(line, path) for line in lines)
                return sorted((i for i in found if i is not None), key=lambda i: i.name)
        return self._list_plain(path)

    def _list_plain(self, path: str) -> builtins.list[FileInfo]:
        try:
            self._command("list", path, f"CWD {path}")
        except FileError as exc:
            _narrowed(self._why_not_listed(exc, path), exc)
        try:
            lines = self._data_lines("LIST -a", "list", path)
        except FileError as exc:
            if reply_code(getattr(exc, "reply", "") or "") // 100 != 5:
                raise
            lines = self._data_lines("LIST", "list", path)  # a server that takes -a for a file name
        now = datetime.now(UTC)
        found = (parse_list_line(line, path, now) for line in lines)
        return sorted((i for i in found if i is not None), key=lambda i: i.name)

    def _why_not_listed(self, exc: FileError, path: str) -> FileError:
        if isinstance(exc, NotFound | ServerRefused | NotADirectory) and path != "/":
            try:
                kind = self._kind(path) if self._mlsd else self._kind_via_parent(path)
            except FileError:
                kind = None
            if kind is None:
                return with_reply(NotFound(path, exc.reason), getattr(exc, "reply", None))
            if kind is not FileKind.DIR:
                return with_reply(NotADirectory(path, "not a directory"), getattr(exc, "reply", None))
        return exc

    def _kind_via_parent(self, path: str) -> FileKind | None:
        parent, name = posixpath.split(path)
        for info in self._list_plain(parent):
            if info.name == name:
                return info.kind
        return None

    def _kind(self, remote: str) -> FileKind | None:
        try:
            return self.get_info(remote).kind
        except NotFound:
            return None

    # -- writing --------------------------------------------------------

    def write(self, data: bytes | str, remote: str) -> None:
        """Write ``data`` to a remote file atomically (``str`` is UTF-8 encoded)."""
        payload = data.encode("utf-8") if isinstance(data, str) else data
        self._store_atomic(self._abs(remote), payload, "upload")

    def upload_file(self, local: str | Path, remote: str, *, preserve: bool | None = None) -> None:
        """Upload one file: STOR to a temporary name, then rename over ``remote``.

        A failed or interrupted upload leaves ``remote`` as it was and removes
        the temporary file. ``preserve`` copies the local modification time
        (MFMT, where offered) and mode (SITE CHMOD).
        """
        source = Path(local)
        if source.is_dir():
            raise with_reply(IsADirectory(str(source), "local path is a directory; use upload()"), None)
        path = self._abs(remote)
        with open(source, "rb") as handle:
            self._store_atomic(path, handle, "upload")
        if preserve:
            self._preserve(source, path)

    def upload(self, local: str | Path, remote: str, *, preserve: bool | None = None) -> None:
        """Upload a file or, recursively, a directory; atomic per file."""
        filetree.upload(self, local, self._abs(remote), preserve=preserve)

    def create_directory(self, remote: str) -> None:
        """Create one directory (MKD); :class:`AlreadyExists` when something has the name."""
        path = self._abs(remote)
        try:
            self._command("create directory", path, f"MKD {path}")
        except FileError as exc:
            if not isinstance(exc, AlreadyExists) and self._kind(path) is not None:
                raise with_reply(AlreadyExists(path, exc.reason), getattr(exc, "reply", None)) from exc
            raise

    def create_symlink(self, target: str, link: str) -> None:
        """``SITE SYMLINK`` where the server offers it (ProFTPD's mod_site_misc); else Unsupported."""
        path = self._abs(link)
        self._site("create symlink", path, f"SITE SYMLINK {target} {path}", "symbolic links")

    def create_hardlink(self, target: str, link: str) -> None:
        """FTP cannot make hard links."""
        raise unsupported(self._abs(link), "FTP cannot create hard links")

    def move(self, source: str, target: str) -> None:
        """Move or rename an entry (RNFR/RNTO); servers replace an existing target file."""
        self.rename(source, target)

    def rename(self, source: str, target: str) -> None:
        """Rename an entry (RNFR/RNTO)."""
        old, new = self._abs(source), self._abs(target)
        try:
            self._command("rename", old, f"RNFR {old}")
        except FileError as exc:
            _narrowed(self._explain(exc, old), exc)
        self._command("rename", new, f"RNTO {new}")

    def chmod(self, mode: str | int, remote: str) -> None:
        """Change permission bits with ``SITE CHMOD`` (``"644"``, ``"0o755"`` or an int)."""
        path = self._abs(remote)
        bits = parse_mode(mode)
        self._site("chmod", path, f"SITE CHMOD {bits:o} {path}", "SITE CHMOD")

    def chown(self, owner: str | int, remote: str) -> None:
        """FTP has no standard command to change an owner."""
        raise unsupported(self._abs(remote), "FTP cannot change a file's owner")

    def chgrp(self, group: str | int, remote: str) -> None:
        """FTP has no standard command to change a group."""
        raise unsupported(self._abs(remote), "FTP cannot change a file's group")

    # -- deleting -------------------------------------------------------

    def delete(self, remote: str) -> None:
        """Delete any entry; a directory with everything below it."""
        filetree.delete(self, self._abs(remote))

    def delete_directory(self, remote: str) -> None:
        """Delete a directory with everything below it; :class:`NotADirectory` for anything else."""
        path = self._abs(remote)
        if self.get_info(path).kind is not FileKind.DIR:
            raise with_reply(NotADirectory(path, "not a directory; use delete_file"), None)
        filetree.delete(self, path)

    def delete_file(self, remote: str) -> None:
        """Delete one file (DELE); :class:`IsADirectory` for a directory."""
        self.remove_file(remote)

    def delete_symlink(self, remote: str) -> None:
        """Delete a symbolic link itself (DELE), never what it points to."""
        self.remove_file(remote)

    def remove_file(self, remote: str) -> None:
        """DELE one entry that is not a directory."""
        path = self._abs(remote)
        try:
            self._command("delete", path, f"DELE {path}")
        except FileError as exc:
            _narrowed(self._explain(exc, path, wants_file=True), exc)

    def remove_directory(self, remote: str) -> None:
        """RMD one empty directory."""
        path = self._abs(remote)
        try:
            self._command("delete directory", path, f"RMD {path}")
        except FileError as exc:
            _narrowed(self._explain(exc, path), exc)

    # -- internals ------------------------------------------------------

    def _abs(self, remote: str) -> str:
        if "\r" in remote or "\n" in remote or "\x00" in remote:
            raise with_reply(FileError(remote, "a path cannot contain line breaks or NUL"), None)
        path = remote if remote.startswith("/") else posixpath.join(self._home, remote)
        return posixpath.normpath(path).replace("//", "/")

    def _command(self, action: str, path: str, line: str) -> str:
        idle = self._idle_s()
        try:
            with self._replies(action, path):
                return self.control.sendcmd(line)
        except ConnectionLost:
            if not self._may_retry(idle, line):
                raise
            log.info(
                "ftp_retry_after_idle", server=self.settings.address, action=action, idle_s=round(idle, 1)
            )
            with self._replies(action, path):
                return self.control.sendcmd(line)

    def _idle_s(self) -> float:
        return time.monotonic() - self._last_used

    def _may_retry(self, idle_s: float, command: str) -> bool:
        """Whether to reconnect and repeat ``command`` once after the connection was found dead.

        Only when the session sat idle first (servers close idle sessions and
        restart) and the server never accepted the command, so repeating it
        cannot do anything twice.
        """
        return idle_s >= _RETRY_AFTER_IDLE_S and not self._closed and self.control.answered != command

    def _site(self, action: str, path: str, line: str, feature: str) -> None:
        try:
            self._command(action, path, line)
        except Unsupported as exc:
            raise with_reply(
                Unsupported(path, f"this server does not offer {feature}: {exc.reason}"),
                getattr(exc, "reply", None),
            ) from exc
        except FileError as exc:
            _narrowed(self._explain(exc, path), exc)

    @contextlib.contextmanager
    def _replies(self, action: str, path: str) -> Iterator[None]:
        """Turn ftplib's errors into FileErrors; note when the connection is gone."""
        if self._dead:
            self._reconnect(action, path)
        try:
            yield
            self._last_used = time.monotonic()
        except FileError:
            raise
        except ftplib.error_proto as exc:
            self._dead = True
            raise with_reply(
                ConnectionLost(path, f"{action}: the server sent a malformed reply: {exc}"), str(exc)
            ) from exc
        except ftplib.Error as exc:
            error = from_reply(path, action, str(exc))
            if isinstance(error, ConnectionLost):
                self._dead = True
            raise error from exc
        except (OSError, EOFError) as exc:
            self._dead = True
            raise self._lost(path, action, exc) from exc

    def _reconnect(self, action: str, path: str) -> None:
        """Replace a control connection that failed earlier (nothing of this command was sent yet)."""
        if self._closed:
            raise with_reply(ConnectionLost(path, f"{action}: the client was closed"), None)
        fresh = FtpClient.open(self.settings)
        self.control, self.features, self._mlsd = fresh.control, fresh.features, fresh._mlsd
        self._home, self._dead = fresh._home, False
        log.info("ftp_reconnected", server=self.settings.address, action=action)

    def _lost(self, path: str, action: str, exc: BaseException) -> ConnectionLost:
        if isinstance(exc, TimeoutError):
            reason = f"{action}: no reply from {self.settings.address} within {self.settings.timeout_s:g}s"
        else:
            reason = f"{action}: connection to {self.settings.address} lost: {_describe(exc)}"
        return with_reply(ConnectionLost(path, reason), None)

    def _explain(self, exc: FileError, path: str, *, wants_file: bool = False) -> FileError:
        """Narrow an unspecific refusal (vsftpd's "550 Failed to ...") by looking at the path."""
        if not isinstance(exc, ServerRefused) or self._dead:
            return exc
        try:
            kind = self._kind(path)
        except FileError:
            return exc
        reply = getattr(exc, "reply", None)
        if kind is None:
            return with_reply(NotFound(path, exc.reason), reply)
        if kind is FileKind.DIR and wants_file:
            return with_reply(IsADirectory(path, exc.reason), reply)
        return exc

    def _open_data(self, command: str, action: str, path: str) -> socket.socket:
        """Send a transfer command and return its data connection."""
        idle = self._idle_s()
        try:
            return self._open_data_once(command, action, path)
        except ConnectionLost:
            if not self._may_retry(idle, command):
                raise
            log.info(
                "ftp_retry_after_idle", server=self.settings.address, action=action, idle_s=round(idle, 1)
            )
            return self._open_data_once(command, action, path)

    def _open_data_once(self, command: str, action: str, path: str) -> socket.socket:
        with self._replies(action, path):
            try:
                conn, _size = self.control.ntransfercmd(command)
            except ftplib.Error:
                raise
            except OSError as exc:
                if self.control.answered is None:  # the control connection failed, not the data one
                    raise

                # The data socket (or TLS on it) failed. If the server had already
                # accepted the command, its final reply is pending: read it, both
                # for its text and to keep the control connection in step.
                reply = self._resync() if self.control.answered == command else None
                if reply and reply_code(reply) in (522, 534):
                    raise with_reply(
                        TlsRefused(path, f"{action}: the server refused TLS on the data connection: {reply}"),
                        reply,
                    ) from exc
                error = data_connection_failed(path, action, reply or _describe(exc))
                raise with_reply(error, reply) from exc
        return conn

    def _resync(self) -> str | None:
        """Read the reply a failed transfer left pending; mark the client dead if none comes."""
        if self._dead:
            return None
        try:
            self.control.set_timeout(min(self.settings.timeout_s, _DRAIN_TIMEOUT_S))
            return self.control.getresp()
        except ftplib.Error as exc:
            return str(exc)
        except (OSError, EOFError):
            self._dead = True
            return None
        finally:
            if not self._dead:
                self.control.set_timeout(self.settings.timeout_s)

    def _finish(self, action: str, path: str) -> None:
        with self._replies(action, path):
            self.control.voidresp()

    def _retrieve(self, path: str, action: str, sink: transfer.Sink) -> int:
        try:
            conn = self._open_data(f"RETR {path}", action, path)
        except FileError as exc:
            _narrowed(self._explain(exc, path, wants_file=True), exc)
        try:
            received = transfer.receive(conn, self.settings.block_size, sink)
        except transfer.DataBroken as broken:
            conn.close()
            raise self._broken_transfer(path, action, broken) from broken.cause
        except BaseException:
            conn.close()  # the sink failed (e.g. local disk full); the server answers 426
            self._resync()
            raise
        conn.close()
        try:
            self._finish(action, path)
        except FileError as exc:
            _narrowed(self._explain(exc, path, wants_file=True), exc)
        return received

    def _data_lines(self, command: str, action: str, path: str) -> builtins.list[str]:
        chunks: builtins.list[bytes] = []
        self._retrieve_raw(command, action, path, lambda view: chunks.append(bytes(view)))
        return self.control.decode(b"".join(chunks)).splitlines()

    def _retrieve_raw(self, command: str, action: str, path: str, sink: transfer.Sink) -> None:
        conn = self._open_data(command, action, path)
        try:
            transfer.receive(conn, 65536, sink)
        except transfer.DataBroken as broken:
            conn.close()
            raise self._broken_transfer(path, action, broken) from broken.cause
        conn.close()
        self._finish(action, path)

    def _broken_transfer(self, path: str, action: str, broken: transfer.DataBroken) -> FileError:
        reply = self._resync()
        if reply and reply_code(reply) >= 400 and reply_code(reply) not in (425, 426):
            return from_reply(path, f"{action} (interrupted after {broken.moved} bytes)", reply)
        detail = reply or _describe(broken.cause)
        if broken.moved == 0:  # nothing got through: the data connection itself is the suspect
            return with_reply(data_connection_failed(path, action, detail), reply)
        error = DataConnectionFailed(path, f"{action} interrupted after {broken.moved} bytes: {detail}")
        return with_reply(error, reply)

    def _store_atomic(self, path: str, source: transfer.Source, action: str) -> None:
        directory, name = posixpath.split(path)
        if not name:
            raise with_reply(IsADirectory(path, "give a file name, not a directory"), None)
        temp = posixpath.join(directory, f".{name[:200]}.{secrets.token_hex(4)}.portway-part")
        try:
            self._store(temp, path, source, action)
            self._rename_into_place(temp, path, action)
        except BaseException:
            self._remove_temp(temp)
            raise

    def _store(self, temp: str, path: str, source: transfer.Source, action: str) -> None:
        try:
            conn = self._open_data(f"STOR {temp}", action, path)
        except FileError as exc:
            _narrowed(self._explain_store(exc, path), exc)
        try:
            transfer.send(conn, source, self.settings.block_size)
        except transfer.DataBroken as broken:
            conn.close()
            raise self._broken_transfer(path, action, broken) from broken.cause
        except BaseException:
            conn.close()  # the source failed; the server may store a short temp file, removed next
            self._resync()
            raise
        conn.close()
        self._finish(action, path)

    def _explain_store(self, exc: FileError, path: str) -> FileError:
        parent = posixpath.dirname(path)
        if isinstance(exc, NotFound | ServerRefused) and not self._dead:
            try:
                kind = self._kind(parent)
            except FileError:
                return exc
            reply = getattr(exc, "reply", None)
            if kind is None:
                return with_reply(NotFound(path, f"parent directory {parent} does not exist"), reply)
            if kind is not FileKind.DIR:
                return with_reply(NotADirectory(path, f"{parent} is not a directory"), reply)
        return exc

    def _rename_into_place(self, temp: str, path: str, action: str) -> None:
        try:
            self._rename_pipelined(temp, path, action)
        except FileError as exc:
            # Some servers (IIS) refuse to rename over an existing file: remove it, try once more.
            if self._dead or self._kind(path) is not FileKind.FILE:
                raise
            log.info("ftp_replace_by_delete", path=path, reason=exc.reason)
            self._command(action, path, f"DELE {path}")
            self._command(action, path, f"RNFR {temp}")
            self._command(action, path, f"RNTO {path}")

    def _rename_pipelined(self, source: str, target: str, action: str) -> None:
        """RNFR and RNTO sent together, then both replies read: one round trip, not two.

        When RNFR is refused the server still answers the RNTO (503, bad
        sequence); that reply is read too, so the session stays in step.
        """
        with self._replies(action, target):
            self.control.putcmd(f"RNFR {source}")
            self.control.putcmd(f"RNTO {target}")
            try:
                self.control.getresp()  # 350, or raises for 4xx/5xx
            except ftplib.Error:
                with contextlib.suppress(ftplib.Error):
                    self.control.getresp()
                raise
            self.control.voidresp()

    def _remove_temp(self, temp: str) -> None:
        if not self._dead:
            try:
                self.control.sendcmd(f"DELE {temp}")
                return
            except ftplib.Error:
                return  # not created (the STOR was refused) or already gone
            except (OSError, EOFError):
                self._dead = True
        # The control connection is gone: clean up over a fresh one.
        try:
            with FtpClient.open(self.settings) as other:
                other.control.sendcmd(f"DELE {temp}")
        except ftplib.error_perm:
            return
        except (FileError, OSError, EOFError, ftplib.Error) as exc:
            log.warning("ftp_temp_file_left", path=temp, server=self.settings.address, reason=str(exc))

    def _preserve(self, source: Path, path: str) -> None:
        stat = source.stat()
        stamp = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y%m%d%H%M%S")
        if "MFMT" in self.features:
            self._command("preserve time", path, f"MFMT {stamp} {path}")
        else:
            # vsftpd (mdtm_write=YES) and some others set the time with a two-argument MDTM.
            try:
                self._command("preserve time", path, f"MDTM {stamp} {path}")
            except FileError as exc:
                log.info("ftp_time_not_kept", path=path, reason=f"no MFMT and MDTM refused: {exc.reason}")
        try:
            self.chmod(stat.st_mode & 0o7777, path)
        except Unsupported as exc:
            log.info("ftp_mode_not_kept", path=path, reason=exc.reason)

    def _copy_times(self, path: str, local: Path) -> None:
        info = self.get_info(path)
        mtime = info.mtime
        if not self._mlsd and "MDTM" in self.features:
            # LIST shows minutes, or only the day for old files; MDTM has seconds.
            reply = self._command("preserve time", path, f"MDTM {path}")
            mtime = fact_time(reply[4:].strip()) or mtime
        if mtime is not None:
            stamp = mtime.timestamp()
            os.utime(local, (stamp, stamp))
        if info.mode is not None:
            local.chmod(info.mode)


def _narrowed(better: FileError, original: FileError) -> NoReturn:
    """Raise ``better`` chained to ``original``, or ``original`` untouched (its cause kept)."""
    if better is original:
        raise original
    raise better from original


def _placed(info: FileInfo, path: str) -> FileInfo:
    """The same entry, named and placed at ``path``."""
    return replace(info, name=posixpath.basename(path) or path, path=path)


def _parse_pwd(reply: str) -> str | None:
    """The directory in ``257 "/a ""quoted"" dir" is current``; doubled quotes are one quote."""
    start = reply.find('"')
    if start < 0:
        return None
    out, index = [], start + 1
    while index < len(reply):
        char = reply[index]
        if char == '"':
            if reply[index + 1 : index + 2] == '"':
                out.append('"')
                index += 2
                continue
            return "".join(out)
        out.append(char)
        index += 1
    return None


def _features(control: ControlConnection) -> dict[str, str]:
    """FEAT as ``{"MLST": "type*;size*;...", "UTF8": "", ...}``; empty when FEAT is refused."""
    try:
        reply = control.sendcmd("FEAT")
    except ftplib.Error:
        return {}
    features: dict[str, str] = {}
    for line in reply.splitlines()[1:]:
        if line.startswith(" "):
            name, _, params = line.strip().partition(" ")
            features[name.upper()] = params
    return features


def _secure(control: ControlConnection, address: str) -> None:
    try:
        control.auth()
    except ftplib.Error as exc:
        raise with_reply(
            TlsRefused(
                address,
                f"the server refused AUTH TLS ({exc}); it may not offer FTPS on this port: "
                "check tls (explicit or implicit) and port",
            ),
            str(exc),
        ) from exc


def _login(control: ControlConnection, settings: FtpSettings) -> None:
    password = settings.password.get_secret_value() if settings.password else ""
    try:
        control.login(settings.username, password, secure=False)
    except ftplib.Error as exc:
        reply = str(exc)
        code = reply_code(reply)
        wants_tls = any(word in reply.lower() for word in ("encrypt", "ssl", "tls", "secure"))
        if settings.tls is TlsMode.NONE and (code in (522, 534) or wants_tls):
            raise with_reply(
                TlsRefused(
                    settings.address, f"login refused: {reply}; the server wants FTPS: set tls=explicit"
                ),
                reply,
            ) from exc
        if code in (530, 331, 332) or code // 100 == 3:
            raise with_reply(
                LoginRefused(
                    settings.address,
                    f"login as {settings.username!r} refused: {reply}; check username and password",
                ),
                reply,
            ) from exc
        raise with_reply(ConnectError(settings.address, f"login refused: {reply}"), reply) from exc


def _protect_data(control: ControlConnection, address: str) -> None:
    try:
        control.prot_p()
    except ftplib.Error as exc:
        raise with_reply(
            TlsRefused(address, f"the server refused PROT P (encrypted data connections): {exc}"),
            str(exc),
        ) from exc


def _connect_error(settings: FtpSettings, exc: BaseException) -> FileError:
    address = settings.address
    if isinstance(exc, ssl.SSLCertVerificationError):
        return certificate_error(settings, exc)
    if isinstance(exc, ssl.SSLError):
        hint = (
            "is the server speaking implicit TLS on this port? try tls=explicit"
            if settings.tls is TlsMode.IMPLICIT
            else "is this an FTPS port? try tls=implicit or the explicit port"
        )
        return with_reply(TlsRefused(address, f"TLS handshake failed: {_describe(exc)}; {hint}"), None)
    if isinstance(exc, socket.gaierror):
        return with_reply(ConnectError(address, f"unknown host {settings.host!r}: {exc.strerror}"), None)
    if isinstance(exc, TimeoutError):
        waited = f"{settings.connect_timeout_s:g}s"
        return with_reply(ConnectError(address, f"no answer within {waited} (connect_timeout_s)"), None)
    if isinstance(exc, ConnectionRefusedError):
        refused = "connection refused: is the server running on this port?"
        return with_reply(ConnectError(address, refused), None)
    if isinstance(exc, ftplib.Error):
        return with_reply(ConnectError(address, f"the server refused the session: {exc}"), str(exc))
    if isinstance(exc, OSError | EOFError):
        return with_reply(ConnectError(address, f"cannot connect: {_describe(exc)}"), None)
    return with_reply(ConnectError(address, f"cannot connect: {type(exc).__name__}: {exc}"), None)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def is_broken(exc: BaseException) -> bool:
    """Whether a client that raised ``exc`` must be discarded rather than pooled again."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionLost | OSError | EOFError | ftplib.error_proto):
            return True
        if isinstance(current, ftplib.error_temp) and str(current).startswith("421"):
            return True
        current = current.__cause__ or current.__context__
    return False
