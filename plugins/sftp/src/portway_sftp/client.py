"""The SFTP client services use: the whole :class:`portway.files.FileClient` API.

One client holds one SSH connection and one SFTP channel; directory
transfers open extra channels on the same connection for their workers.
Every failure is a :class:`portway.files.FileError` subclass naming the path
and the server's reason.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import logging
import os
import posixpath
import secrets
import shlex
import stat
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import structlog

from portway import filetree
from portway.files import (
    AlreadyExists,
    FileError,
    FileInfo,
    FileKind,
    IsADirectory,
    NoSpace,
    NotADirectory,
    NotFound,
    TransferError,
    Unsupported,
    parse_mode,
)
from portway.filescript import DiskUsage, Session, run_script
from portway_sftp import protocol_log, transfer
from portway_sftp.endpoint import Endpoint, resolve
from portway_sftp.failures import ConnectionLost, file_error
from portway_sftp.transport import close_transport, open_transport

if TYPE_CHECKING:
    import paramiko

    from portway_sftp.settings import SftpSettings

log = structlog.get_logger("portway.sftp")
T = TypeVar("T")
_TEMP_SUFFIX = ".portway-part"
_DEFAULT_CHUNK = 32768  # what every SFTP server must accept
_connection_ids = iter(range(1, 1 << 62))


class SftpClient:
    """A live SFTP connection. Paths are remote unless named ``local``.

    Relative remote paths start from ``default_directory`` (or the login
    directory). Thread-safe for one caller at a time, as pooled clients are.
    """

    def __init__(self, settings: SftpSettings, endpoint: Endpoint, transport: paramiko.Transport) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.transport = transport
        self.id = next(_connection_ids)
        self._lock = threading.RLock()
        self._names: dict[tuple[str, int], str] = {}
        limit = settings.bandwidth_limit
        self._pace = transfer.Throttle(limit) if limit else None  # one limit for the whole connection
        self._sftp = self._open_channel()
        # OpenSSH extensions we use; one is dropped on its first "unsupported" answer
        # (paramiko does not keep the list the server announces).
        self._extensions = {"limits@openssh.com", "users-groups-by-id@openssh.com", "statvfs@openssh.com"}
        self._read_chunk, self._write_chunk = self._limits()
        self._home = self._call(".", lambda: self._sftp.normalize("."))
        self._base = self._home
        if settings.default_directory:
            self._base = self.realpath(posixpath.join(self._home, settings.default_directory))

    # -- life cycle -----------------------------------------------------

    @classmethod
    def open(cls, settings: SftpSettings) -> SftpClient:
        """Connect, verify the host key, log in and open the SFTP channel."""
        endpoint = resolve(settings)
        debug = settings.log_level == "debug" or endpoint.options.debug
        # A logger of its own per connection only when debugging: stdlib loggers live forever.
        channel = f"paramiko.portway.{next(_connection_ids)}" if debug else None
        handler = protocol_log.attach(channel, endpoint.address) if channel else None
        started = time.perf_counter()
        try:
            transport = open_transport(settings, endpoint, channel)
            try:
                client = cls(settings, endpoint, transport)
            except BaseException:
                close_transport(transport)
                raise
        except BaseException:
            if channel and handler:
                logging.getLogger(channel).removeHandler(handler)
            raise
        client._handler = handler
        log.info(
            "sftp_connected",
            server=endpoint.address,
            user=endpoint.username,
            cipher=getattr(transport, "remote_cipher", "?"),
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return client

    _handler: logging.Handler | None = None

    def close(self) -> None:
        """Close the SFTP channel and the SSH connection."""
        try:
            self._sftp.close()
        finally:
            close_transport(self.transport)
            if self._handler is not None:
                logging.getLogger(self.transport.get_log_channel()).removeHandler(self._handler)

    def __enter__(self) -> SftpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_active(self) -> bool:
        return bool(self.transport.is_active())

    def _open_channel(self) -> paramiko.SFTPClient:
        import paramiko

        from portway_sftp.channel import open_sftp
        from portway_sftp.transport import MAX_PACKET_SIZE, WINDOW_SIZE

        try:
            return open_sftp(
                self.transport,
                window_size=WINDOW_SIZE,
                max_packet_size=MAX_PACKET_SIZE,
                timeout=self.settings.timeout,
            )
        except (paramiko.SSHException, paramiko.sftp.SFTPError, EOFError) as exc:
            reason = str(exc) or type(exc).__name__
            raise Unsupported(
                self.endpoint.address, f"the server refused the SFTP subsystem: {reason}"
            ) from exc

    def _limits(self) -> tuple[int, int]:
        """Request sizes the server takes: ``limits@openssh.com``, else the protocol's 32 KiB floor."""
        from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY

        wanted = self.settings.buffer_size
        try:
            kind, msg = self._sftp._request(CMD_EXTENDED, "limits@openssh.com")  # type: ignore[attr-defined]
        except OSError:
            self._extensions.discard("limits@openssh.com")
            return min(wanted, _DEFAULT_CHUNK), min(wanted, _DEFAULT_CHUNK)
        if kind != CMD_EXTENDED_REPLY:
            return min(wanted, _DEFAULT_CHUNK), min(wanted, _DEFAULT_CHUNK)
        _packet, max_read, max_write = msg.get_int64(), msg.get_int64(), msg.get_int64()
        read = min(wanted, max_read or _DEFAULT_CHUNK)
        # A write request carries ~13 bytes of header besides the data.
        write = min(wanted, (max_write or _DEFAULT_CHUNK))
        return read, write

    def _worker(self) -> contextlib.AbstractContextManager[filetree.TreeClient]:
        """A second SFTP channel on the same connection, for one transfer worker."""

        @contextlib.contextmanager
        def channel() -> Iterator[filetree.TreeClient]:
            worker = _ChannelClient(self)
            try:
                yield worker
            finally:
                worker.close()

        return channel()

    # -- paths and errors ----------------------------------------------

    def _abs(self, remote: str) -> str:
        return remote if remote.startswith("/") else posixpath.join(self._base, remote)

    def _call(self, path: str, action: Callable[[], T]) -> T:
        try:
            with self._lock:
                return action()
        except FileError:
            raise
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            error = file_error(exc, path)
            if self.settings.log_level == "debug":
                log.info("sftp_failed", path=path, error=str(error))
            raise error from exc

    def _debug(self, operation: str, **fields: Any) -> None:
        if self.settings.log_level == "debug":
            log.info("sftp_request", operation=operation, connection=self.id, **fields)

    # -- FileClient ------------------------------------------------------

    def execute(self, script: str) -> str:
        """Run an ``sftp -b`` style batch script; return its transcript.

        Raises :class:`portway.filescript.ScriptFailed` (with the transcript so
        far) at the first failing command not prefixed with ``-``.
        """
        return str(run_script(self, self._script_text(script)))

    def session(self, local_dir: str | Path | None = None) -> Session:
        """An interpreter that keeps its directories across lines (the interactive shell)."""
        session = Session(self, local_dir=local_dir)
        session._cwd = self._base
        return session

    def _script_text(self, script: str) -> str:
        # Scripts start in default_directory, as the rest of the API does.
        if self._base != self._home:
            return f"@cd {shlex.quote(self._base)}\n{script}"
        return script

    def ping(self) -> float:
        """Run the ping command; return how long it took in milliseconds."""
        started = time.perf_counter()
        self.execute(self.settings.ping_command)
        return (time.perf_counter() - started) * 1000

    def check(self) -> None:
        """Raise when the connection no longer works (used by the pool)."""
        if not self.transport.is_active():
            raise ConnectionLost(self.endpoint.address, "the SSH connection is closed")
        self.ping()

    def download(self, remote: str, local: str | Path, *, preserve: bool | None = None) -> None:
        """Download a file or, recursively, a directory."""
        filetree.download(
            self,
            self._abs(remote),
            local,
            preserve=preserve,
            workers=self.settings.transfer_workers,
            open_worker=self._worker,
        )

    def download_file(self, remote: str, local: str | Path, *, preserve: bool | None = None) -> None:
        """Download one file (symlinks followed) atomically: a local temp file is renamed at the end."""
        path = self._abs(remote)
        attrs, handle = self._call(path, lambda: transfer.stat_and_open(self._sftp, path))
        if handle is None:
            raise IsADirectory(path, "is a directory; use download() for a whole tree")
        target = Path(local)
        if target.is_dir():
            target = target / posixpath.basename(path)
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}")
        self._debug("download", path=path, local=str(target))
        try:
            with temp.open("wb") as out:
                got = self._call(path, lambda: self._download_to(handle, out, attrs.st_size or 0))
            if got != (attrs.st_size or 0):
                raise TransferError(path, f"got {got} bytes but the file has {attrs.st_size}; try again")
            if self._preserve(preserve):
                os.utime(temp, (attrs.st_atime or 0, attrs.st_mtime or 0))
                os.chmod(temp, stat.S_IMODE(attrs.st_mode or 0o644))
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise

    def _download_to(self, handle: bytes, out: BinaryIO, size: int) -> int:
        return transfer.download(
            self._sftp,
            handle,
            out,
            size,
            chunk=self._read_chunk,
            in_flight=self.settings.requests_in_flight,
            throttle=self._throttle(),
        )

    def read(self, remote: str) -> bytes:
        """Return a remote file's contents."""
        path = self._abs(remote)
        attrs, handle = self._call(path, lambda: transfer.stat_and_open(self._sftp, path))
        if handle is None:
            raise IsADirectory(path, "is a directory, not a file")
        buffer = io.BytesIO()
        self._debug("read", path=path)
        self._call(path, lambda: self._download_to(handle, buffer, attrs.st_size or 0))
        return buffer.getvalue()

    def upload(self, local: str | Path, remote: str, *, preserve: bool | None = None) -> None:
        """Upload a file or, recursively, a directory; each file lands atomically."""
        source = Path(local)
        target = self._abs(remote)
        if source.is_file() and self._is_dir(target):
            target = posixpath.join(target, source.name)
        filetree.upload(
            self,
            source,
            target,
            preserve=preserve,
            workers=self.settings.transfer_workers,
            open_worker=self._worker,
        )

    def upload_file(self, local: str | Path, remote: str, *, preserve: bool | None = None) -> None:
        """Upload one local file atomically (temp name, then rename over the target)."""
        source = Path(local)
        path = self._abs(remote)
        try:
            handle = source.open("rb")
        except FileNotFoundError as exc:
            raise NotFound(str(source), "local file does not exist") from exc
        except IsADirectoryError as exc:
            raise IsADirectory(str(source), "local path is a directory; use upload()") from exc
        except OSError as exc:
            raise FileError(str(source), f"cannot read the local file: {exc.strerror}") from exc
        with handle:
            local_stat = os.fstat(handle.fileno())
            times = (local_stat.st_atime, local_stat.st_mtime) if self._preserve(preserve) else None
            mode = stat.S_IMODE(local_stat.st_mode) if self._preserve(preserve) else None
            self._put(handle, path, times=times, mode=mode)

    def write(self, data: bytes | str, remote: str) -> None:
        """Write data to a remote file atomically (``str`` is UTF-8 encoded)."""
        payload = data.encode() if isinstance(data, str) else bytes(data)
        self._put(io.BytesIO(payload), self._abs(remote))

    def _put(
        self,
        source: BinaryIO,
        path: str,
        *,
        times: tuple[float, float] | None = None,
        mode: int | None = None,
    ) -> None:
        directory, name = posixpath.split(path)
        temp = posixpath.join(directory, f".{name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}")
        self._debug("upload", path=path, temp=temp)
        try:
            sent = self._call(path, lambda: self._upload_to(source, temp, mode))
            if times is not None or mode is not None:
                self._call(path, lambda: self._set_metadata(temp, times, mode))
            self._call(path, lambda: self._replace(temp, path))
        except BaseException as exc:
            # Look at the free space before the temp file is removed and frees it again.
            explained = (
                self._explain_write_failure(exc, directory)
                if isinstance(exc, FileError) and not isinstance(exc, ConnectionLost)
                else None
            )
            self._discard(temp)
            if explained is not None and explained is not exc:
                raise explained from exc
            raise
        self._debug("uploaded", path=path, bytes=sent)

    def _upload_to(self, source: BinaryIO, temp: str, mode: int | None) -> int:
        return transfer.upload(
            self._sftp,
            source,
            temp,
            chunk=self._write_chunk,
            in_flight=self.settings.requests_in_flight,
            mode=mode,
            throttle=self._throttle(),
        )

    def _set_metadata(self, path: str, times: tuple[float, float] | None, mode: int | None) -> None:
        if times is not None:
            self._sftp.utime(path, times)
        if mode is not None:
            self._sftp.chmod(path, mode)

    def _replace(self, temp: str, path: str) -> None:
        """Rename over the target: posix-rename replaces atomically; plain SFTP rename cannot."""
        try:
            self._sftp.posix_rename(temp, path)
        except OSError as exc:
            if "posix-rename" not in str(exc).lower() and "unsupported" not in str(exc).lower():
                raise
            # No posix-rename: remove then rename (a short window without a target).
            with contextlib.suppress(OSError):
                self._sftp.remove(path)
            self._sftp.rename(temp, path)

    def _discard(self, temp: str) -> None:
        """Remove a partial temp file; impossible when the connection itself dropped."""
        if not self.transport.is_active():
            log.warning("sftp_partial_left", path=temp, reason="connection lost before cleanup")
            return
        try:
            with self._lock:
                self._sftp.remove(temp)
        except OSError:
            return  # never created, or already gone
        except Exception as exc:  # the channel is unusable; the pool replaces the client
            log.warning("sftp_partial_left", path=temp, reason=str(exc))

    def _explain_write_failure(self, exc: FileError, directory: str) -> FileError:
        """Servers say only "Failure" for a full disk; look at the free space to say more."""
        if type(exc) is not FileError or "statvfs@openssh.com" not in self._extensions:
            return exc
        try:
            usage = self.disk_usage(directory)
        except FileError:
            return exc
        if usage.available < max(self._write_chunk, 1) * 2:
            return NoSpace(
                exc.path, f"{exc.reason}: the server's disk is full ({usage.available} bytes free)"
            )
        return exc

    def create_directory(self, remote: str) -> None:
        path = self._abs(remote)
        self._create(path, lambda: self._sftp.mkdir(path))

    def create_symlink(self, target: str, link: str) -> None:
        """Make ``link`` point at ``target`` (a relative target is stored as written)."""
        path = self._abs(link)
        self._create(path, lambda: self._sftp.symlink(target, path))

    def _create(self, path: str, make: Callable[[], object]) -> None:
        """Run ``make``; SFTP's generic failure on a path that exists now means it was there."""
        try:
            self._call(path, make)
        except FileError as exc:
            if type(exc) is FileError and self._exists(path):
                raise AlreadyExists(path, f"exists already (server said: {exc.reason})") from exc
            raise

    def create_hardlink(self, target: str, link: str) -> None:
        from paramiko.sftp import CMD_EXTENDED

        source, path = self._abs(target), self._abs(link)
        try:
            self._call(
                path,
                lambda: self._sftp._request(CMD_EXTENDED, "hardlink@openssh.com", source, path),  # type: ignore[attr-defined]
            )
        except FileError as exc:
            if "unsupported" in exc.reason.lower():
                raise Unsupported(path, "the server has no hardlink@openssh.com extension") from exc
            if type(exc) is FileError and self._exists(path):
                raise AlreadyExists(path, f"exists already (server said: {exc.reason})") from exc
            raise

    def delete(self, remote: str) -> None:
        """Delete any entry; a directory with all it holds. Symlinks are not followed."""
        filetree.delete(self, self._abs(remote))

    def delete_directory(self, remote: str) -> None:
        """Delete a directory and all it holds; refuse anything else."""
        path = self._abs(remote)
        if self.get_info(path).kind is not FileKind.DIR:
            raise NotADirectory(path, "is not a directory; use delete_file or delete_symlink")
        filetree.delete(self, path)

    def delete_file(self, remote: str) -> None:
        """Delete a regular file; refuse a directory or symlink."""
        path = self._abs(remote)
        info = self.get_info(path)
        if info.kind is FileKind.DIR:
            raise IsADirectory(path, "is a directory; use delete_directory")
        if info.kind is FileKind.SYMLINK:
            raise FileError(path, "is a symlink; use delete_symlink")
        self.remove_file(path)

    def delete_symlink(self, remote: str) -> None:
        """Delete a symlink itself (never what it points at)."""
        path = self._abs(remote)
        if self.get_info(path).kind is not FileKind.SYMLINK:
            raise FileError(path, "is not a symlink")
        self.remove_file(path)

    def remove_file(self, remote: str) -> None:
        path = self._abs(remote)
        try:
            self._call(path, lambda: self._sftp.remove(path))
        except FileError as exc:
            if type(exc) is FileError and self._is_dir(path):
                raise IsADirectory(path, f"is a directory (server said: {exc.reason})") from exc
            raise

    def remove_directory(self, remote: str) -> None:
        path = self._abs(remote)
        try:
            self._call(path, lambda: self._sftp.rmdir(path))
        except FileError as exc:
            if type(exc) is FileError and self._is_dir(path) and self.list(path):
                raise FileError(path, f"directory not empty (server said: {exc.reason})") from exc
            raise

    def get_info(self, remote: str) -> FileInfo:
        """Describe an entry itself; a symlink is reported as one, with its target."""
        path = self._abs(remote)
        attrs = self._call(path, lambda: self._sftp.lstat(path))
        info = self._infos(posixpath.dirname(path) or "/", [(posixpath.basename(path) or "/", attrs)])[0]
        if info.kind is FileKind.SYMLINK:
            target = self._call(path, lambda: self._sftp.readlink(path))
            info = _with_target(info, path, target)
        return _with_path(info, path)

    def is_directory(self, remote: str) -> bool:
        """Whether ``remote`` is a directory (or a symlink to one)."""
        return self._is_dir(self._abs(remote))

    def is_file(self, remote: str) -> bool:
        """Whether ``remote`` is a regular file (or a symlink to one)."""
        path = self._abs(remote)
        try:
            return stat.S_ISREG(self._call(path, lambda: self._sftp.stat(path)).st_mode or 0)
        except NotFound:
            return False

    def is_symlink(self, remote: str) -> bool:
        path = self._abs(remote)
        try:
            return stat.S_ISLNK(self._call(path, lambda: self._sftp.lstat(path)).st_mode or 0)
        except NotFound:
            return False

    def list(self, remote: str = ".") -> list[FileInfo]:
        """Entries of a directory (not ``.`` and ``..``), sorted by name."""
        path = self._abs(remote)
        attrs = self._call(path, lambda: self._sftp.listdir_attr(path))
        entries = [(a.filename, a) for a in attrs if a.filename not in (".", "..")]
        if not entries and not self._is_dir(path):
            raise NotADirectory(path, "is not a directory")
        entries.sort(key=lambda item: item[0])
        return self._infos(path, entries)

    def move(self, source: str, target: str) -> None:
        """Move or rename; replaces an existing target file where the server has posix-rename."""
        old, new = self._abs(source), self._abs(target)
        self._call(old, lambda: self._replace(old, new))

    def rename(self, source: str, target: str) -> None:
        """Same as :meth:`move`."""
        self.move(source, target)

    def chmod(self, mode: str | int, remote: str) -> None:
        """Set permissions from an octal string (``"640"``) or an int (``0o640``)."""
        value = parse_mode(mode)
        path = self._abs(remote)
        self._call(path, lambda: self._sftp.chmod(path, value))

    def chown(self, owner: str | int, remote: str) -> None:
        """Change the owner, by user name or numeric id (the group is kept)."""
        path = self._abs(remote)
        uid = self._resolve_id("user", owner, path)
        attrs = self._call(path, lambda: self._sftp.stat(path))
        self._call(path, lambda: self._sftp.chown(path, uid, attrs.st_gid or 0))

    def chgrp(self, group: str | int, remote: str) -> None:
        """Change the group, by group name or numeric id (the owner is kept)."""
        path = self._abs(remote)
        gid = self._resolve_id("group", group, path)
        attrs = self._call(path, lambda: self._sftp.stat(path))
        self._call(path, lambda: self._sftp.chown(path, attrs.st_uid or 0, gid))

    # -- ScriptClient extras ---------------------------------------------

    def home(self) -> str:
        return self._home

    def realpath(self, remote: str) -> str:
        path = self._abs(remote)
        return self._call(path, lambda: self._sftp.normalize(path))

    def disk_usage(self, remote: str) -> DiskUsage:
        """Size and free space of the file system holding ``remote`` (statvfs@openssh.com)."""
        from paramiko.sftp import CMD_EXTENDED

        path = self._abs(remote)
        if "statvfs@openssh.com" not in self._extensions:
            raise Unsupported(path, "the server has no statvfs@openssh.com extension")
        try:
            _kind, msg = self._call(
                path,
                lambda: self._sftp._request(CMD_EXTENDED, "statvfs@openssh.com", path),  # type: ignore[attr-defined]
            )
        except FileError as exc:
            if "unsupported" in exc.reason.lower():
                self._extensions.discard("statvfs@openssh.com")
                raise Unsupported(path, "the server has no statvfs@openssh.com extension") from exc
            raise
        _bsize, frsize, blocks, bfree, bavail = (msg.get_int64() for _ in range(5))
        return DiskUsage(
            size=frsize * blocks,
            used=frsize * (blocks - bfree),
            available=frsize * bavail,
            available_root=frsize * bfree,
        )

    # -- internals -------------------------------------------------------

    def _preserve(self, preserve: bool | None) -> bool:
        return self.settings.preserve_metadata if preserve is None else preserve

    def _throttle(self) -> transfer.Throttle | None:
        return self._pace

    def _exists(self, path: str) -> bool:
        try:
            self._call(path, lambda: self._sftp.lstat(path))
        except NotFound:
            return False
        return True

    def _is_dir(self, path: str) -> bool:
        try:
            return stat.S_ISDIR(self._call(path, lambda: self._sftp.stat(path)).st_mode or 0)
        except NotFound:
            return False

    def _infos(self, directory: str, entries: builtins.list[tuple[str, Any]]) -> builtins.list[FileInfo]:
        self._learn_names({a.st_uid for _n, a in entries}, {a.st_gid for _n, a in entries})
        return [_info(directory, name, attrs, self._names) for name, attrs in entries]

    def _learn_names(self, uids: set[int | None], gids: set[int | None]) -> None:
        """Fill the id -> name cache through users-groups-by-id@openssh.com (no ls parsing)."""
        from paramiko.message import Message
        from paramiko.sftp import CMD_EXTENDED

        want_u = sorted(u for u in uids if u is not None and ("user", u) not in self._names)
        want_g = sorted(g for g in gids if g is not None and ("group", g) not in self._names)
        if not (want_u or want_g) or "users-groups-by-id@openssh.com" not in self._extensions:
            return
        packed_u, packed_g = Message(), Message()
        for uid in want_u:
            packed_u.add_int(uid)
        for gid in want_g:
            packed_g.add_int(gid)
        try:
            with self._lock:
                _kind, msg = self._sftp._request(  # type: ignore[attr-defined]
                    CMD_EXTENDED, "users-groups-by-id@openssh.com", packed_u.asbytes(), packed_g.asbytes()
                )
        except OSError:
            self._extensions.discard("users-groups-by-id@openssh.com")
            return
        users, groups = Message(msg.get_binary()), Message(msg.get_binary())
        for uid in want_u:
            self._names[("user", uid)] = users.get_text() or str(uid)
        for gid in want_g:
            self._names[("group", gid)] = groups.get_text() or str(gid)

    def _resolve_id(self, kind: str, value: str | int, path: str) -> int:
        """A numeric id as is; a name via ``id``/``getent`` on the server (SFTP has no lookup)."""
        if isinstance(value, int) or str(value).isdigit():
            return int(value)
        for key, name in self._names.items():
            if key[0] == kind and name == value:
                return key[1]
        command = f"id -u {shlex.quote(value)}" if kind == "user" else f"getent group {shlex.quote(value)}"
        output = self._run_command(command, path)
        text = output.strip().split(":")[2] if kind == "group" and output.count(":") >= 2 else output.strip()
        if not text.isdigit():
            raise NotFound(path, f"the server knows no {kind} named {value!r}")
        self._names[(kind, int(text))] = value
        return int(text)

    def _run_command(self, command: str, path: str) -> str:
        try:
            channel = self.transport.open_session(timeout=self.settings.timeout)
        except Exception as exc:
            raise Unsupported(
                path, f"cannot look up names on this server ({exc}); pass a numeric id"
            ) from exc
        try:
            channel.settimeout(self.settings.timeout)
            channel.exec_command(command)
            output = channel.makefile("rb").read().decode(errors="replace")
            status = channel.recv_exit_status()
        except Exception as exc:
            raise Unsupported(
                path, f"cannot look up names on this server ({exc}); pass a numeric id"
            ) from exc
        finally:
            channel.close()
        if status not in (0, 1, 2):
            raise Unsupported(path, "the server does not allow commands to look up names; pass a numeric id")
        return output


class _ChannelClient(SftpClient):
    """A transfer worker: its own SFTP channel on its parent's connection."""

    def __init__(self, parent: SftpClient) -> None:
        self.settings = parent.settings
        self.endpoint = parent.endpoint
        self.transport = parent.transport
        self.id = parent.id
        self._lock = threading.RLock()
        self._names = parent._names
        self._pace = parent._pace
        self._sftp = self._open_channel()
        self._extensions = parent._extensions
        self._read_chunk, self._write_chunk = parent._read_chunk, parent._write_chunk
        self._home = parent._home
        self._base = parent._base

    def close(self) -> None:
        self._sftp.close()  # the connection belongs to the parent


def _info(directory: str, name: str, attrs: Any, names: dict[tuple[str, int], str]) -> FileInfo:
    mode = attrs.st_mode or 0
    if stat.S_ISDIR(mode):
        kind = FileKind.DIR
    elif stat.S_ISLNK(mode):
        kind = FileKind.SYMLINK
    elif stat.S_ISREG(mode):
        kind = FileKind.FILE
    else:
        kind = FileKind.OTHER
    uid, gid = attrs.st_uid, attrs.st_gid
    return FileInfo(
        name=name,
        path=posixpath.join(directory, name),
        kind=kind,
        size=attrs.st_size,
        mtime=datetime.fromtimestamp(attrs.st_mtime, UTC) if attrs.st_mtime is not None else None,
        mode=mode,
        owner=names.get(("user", uid), str(uid)) if uid is not None else None,
        group=names.get(("group", gid), str(gid)) if gid is not None else None,
    )


def _with_target(info: FileInfo, path: str, target: str | None) -> FileInfo:
    return FileInfo(**{**info.__dict__, "link_target": target})


def _with_path(info: FileInfo, path: str) -> FileInfo:
    return FileInfo(**{**info.__dict__, "path": path})
