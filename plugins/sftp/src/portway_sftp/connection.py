"""One SFTP connection: the SSH transport and its SFTP channel, opened, closed, and called safely.

:class:`SftpConnection` is the base of :class:`portway_sftp.client.SftpClient`:
it opens the connection, serialises requests on it, turns every failure
into a :class:`portway.files.FileError`, and holds what the other parts
share (paths relative to ``default_directory``, the request sizes, the
bandwidth limit). The parts are in :mod:`~portway_sftp.listing`,
:mod:`~portway_sftp.reading`, :mod:`~portway_sftp.writing`,
:mod:`~portway_sftp.entries` and :mod:`~portway_sftp.ownership`.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import logging
import posixpath
import stat
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar

import structlog

from portway.files import FileError, FileInfo, NotFound, Unsupported
from portway.filescript import DiskUsage
from portway_sftp import protocol_log, transfer
from portway_sftp.endpoint import Endpoint, resolve
from portway_sftp.failures import file_error
from portway_sftp.transport import close_transport, open_transport

if TYPE_CHECKING:
    import paramiko

    from portway_sftp.settings import SftpSettings

log = structlog.get_logger("portway.sftp")
T = TypeVar("T")
TEMP_SUFFIX = ".portway-part"
_DEFAULT_CHUNK = 32768  # what every SFTP server must accept
_connection_ids = iter(range(1, 1 << 62))


class SftpConnection(ABC):
    """The connection under :class:`~portway_sftp.client.SftpClient`.

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
    def open(cls, settings: SftpSettings) -> Self:
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
    _shares_transport = False  # a transfer worker's channel on another client's connection

    def close(self) -> None:
        """Close the SFTP channel and the SSH connection (a worker's: its channel only)."""
        if self._shares_transport:
            self._sftp.close()  # the connection belongs to the client the worker came from
            return
        try:
            self._sftp.close()
        finally:
            close_transport(self.transport)
            if self._handler is not None:
                logging.getLogger(self.transport.get_log_channel()).removeHandler(self._handler)

    def __enter__(self) -> Self:
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

    def _sibling(self) -> Self:
        """This client on a new SFTP channel of the same connection, for one transfer worker.

        It shares the settings, the transport, the id-to-name cache, the known
        extensions and the bandwidth limit; closing it closes only its channel.
        """
        twin = copy.copy(self)
        twin._lock = threading.RLock()
        twin._handler = None
        twin._shares_transport = True
        twin._sftp = twin._open_channel()
        return twin

    # -- paths, calls and errors -----------------------------------------

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

    # Given by the other parts of SftpClient, declared here (last in the method order) for the
    # parts that call them.
    @abstractmethod
    def get_info(self, remote: str) -> FileInfo:
        """Describe an entry itself."""

    @abstractmethod
    def list(self, remote: str = ".") -> builtins.list[FileInfo]:
        """Entries of a directory."""

    @abstractmethod
    def realpath(self, remote: str) -> str:
        """The server's canonical path."""

    @abstractmethod
    def disk_usage(self, remote: str) -> DiskUsage:
        """Size and free space of the file system holding ``remote``."""
