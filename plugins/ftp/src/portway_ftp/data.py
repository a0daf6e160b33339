"""Data connections: a transfer command, its data socket, the final reply, and what a broken one means."""

from __future__ import annotations

import builtins
import ftplib
import socket

import structlog

from portway.files import FileError
from portway_ftp import transfer
from portway_ftp.errors import (
    ConnectionLost,
    DataConnectionFailed,
    TlsRefused,
    data_connection_failed,
    from_reply,
    narrowed,
    reason_of,
    reply_code,
    with_reply,
)
from portway_ftp.session import FtpSession

log = structlog.get_logger("portway.ftp")

_DRAIN_TIMEOUT_S = 10.0


class DataChannel(FtpSession):
    """What the parts that move data (listings, downloads, uploads) share."""

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
                error = data_connection_failed(path, action, reply or reason_of(exc))
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
            narrowed(self._explain(exc, path, wants_file=True), exc)
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
            narrowed(self._explain(exc, path, wants_file=True), exc)
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
        detail = reply or reason_of(broken.cause)
        if broken.moved == 0:  # nothing got through: the data connection itself is the suspect
            return with_reply(data_connection_failed(path, action, detail), reply)
        error = DataConnectionFailed(path, f"{action} interrupted after {broken.moved} bytes: {detail}")
        return with_reply(error, reply)
