"""Moving file contents: downloads that land whole, uploads to a temporary name renamed into place."""

from __future__ import annotations

import contextlib
import ftplib
import io
import os
import posixpath
import secrets
from datetime import UTC, datetime
from pathlib import Path

import structlog

from portway.files import FileError, FileKind, IsADirectory, NotADirectory, NotFound, Unsupported
from portway_ftp import transfer
from portway_ftp.data import DataChannel
from portway_ftp.errors import ServerRefused, narrowed, with_reply
from portway_ftp.listing import fact_time

log = structlog.get_logger("portway.ftp")


class Storing(DataChannel):
    """``read``, ``download*``, ``write`` and ``upload*`` of the file API."""

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
            narrowed(self._explain_store(exc, path), exc)
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
            with type(self).open(self.settings) as other:
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
