"""Reading files: pipelined downloads that land whole (a local temp file renamed at the end)."""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import secrets
import stat
from pathlib import Path
from typing import BinaryIO

from portway.files import IsADirectory, TransferError
from portway_sftp import transfer
from portway_sftp.connection import TEMP_SUFFIX, SftpConnection


class Reading(SftpConnection):
    """``read`` and ``download_file`` of the file API."""

    def download_file(self, remote: str, local: str | Path, *, preserve: bool | None = None) -> None:
        """Download one file (symlinks followed) atomically: a local temp file is renamed at the end."""
        path = self._abs(remote)
        attrs, handle = self._call(path, lambda: transfer.stat_and_open(self._sftp, path))
        if handle is None:
            raise IsADirectory(path, "is a directory; use download() for a whole tree")
        target = Path(local)
        if target.is_dir():
            target = target / posixpath.basename(path)
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
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
