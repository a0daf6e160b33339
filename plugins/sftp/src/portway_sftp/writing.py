"""Writing files: pipelined uploads to a temporary name, renamed over the target at the end."""

from __future__ import annotations

import io
import os
import posixpath
import secrets
import stat
from pathlib import Path
from typing import BinaryIO

import structlog

from portway.files import FileError, IsADirectory, NoSpace, NotFound
from portway_sftp import transfer
from portway_sftp.connection import TEMP_SUFFIX, SftpConnection
from portway_sftp.failures import ConnectionLost

log = structlog.get_logger("portway.sftp")


class Writing(SftpConnection):
    """``write`` and ``upload_file`` of the file API."""

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
        temp = posixpath.join(directory, f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
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
