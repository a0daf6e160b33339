"""One FTP/FTPS session: opened, its commands sent with their replies turned into file errors.

The control connection is reopened once when a command finds it dead after
the session sat idle (servers close idle sessions), and only when the
server never accepted that command, so nothing is done twice.

:class:`FtpSession` is the base of :class:`portway_ftp.client.FtpClient`;
the other parts (data connections, browsing, storing, entries) build on it.
"""

from __future__ import annotations

import contextlib
import ftplib
import posixpath
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Self

import structlog

from portway.files import FileError, FileInfo, FileKind, IsADirectory, NotFound
from portway_ftp import handshake
from portway_ftp.control import ControlConnection
from portway_ftp.errors import ConnectionLost, ServerRefused, from_reply, reason_of, with_reply
from portway_ftp.settings import FtpSettings, TlsMode
from portway_ftp.tls import make_context

log = structlog.get_logger("portway.ftp")

_WANTED_FACTS = ("type", "size", "modify", "unix.mode", "unix.owner", "unix.group", "unix.uid", "unix.gid")
_RETRY_AFTER_IDLE_S = 1.0


class FtpSession(ABC):
    """The session under :class:`~portway_ftp.client.FtpClient`: open, close, commands, reconnects.

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
    def open(cls, settings: FtpSettings) -> Self:
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
                handshake.secure(control, address)
            handshake.log_in(control, settings)
            if context is not None:
                handshake.protect_data(control, address)
            features = handshake.features_of(control)
            client = cls(settings, control, features)
            client._setup()
        except BaseException as exc:
            control.close()
            if isinstance(exc, FileError) or not isinstance(exc, Exception):
                raise  # ours already, or KeyboardInterrupt and the like
            raise handshake.connect_error(settings, exc) from exc
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
        self._home = handshake.parse_pwd(control.sendcmd("PWD")) or "/"

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

    def __enter__(self) -> Self:
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

    # -- commands -------------------------------------------------------

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
        fresh = type(self).open(self.settings)
        self.control, self.features, self._mlsd = fresh.control, fresh.features, fresh._mlsd
        self._home, self._dead = fresh._home, False
        log.info("ftp_reconnected", server=self.settings.address, action=action)

    def _lost(self, path: str, action: str, exc: BaseException) -> ConnectionLost:
        if isinstance(exc, TimeoutError):
            reason = f"{action}: no reply from {self.settings.address} within {self.settings.timeout_s:g}s"
        else:
            reason = f"{action}: connection to {self.settings.address} lost: {reason_of(exc)}"
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

    def _kind(self, remote: str) -> FileKind | None:
        try:
            return self.get_info(remote).kind
        except NotFound:
            return None

    # Given by the other parts of FtpClient, declared here (last in the method order) for those
    # that call them: browsing's get_info, the entries' chmod.
    @abstractmethod
    def get_info(self, remote: str) -> FileInfo:
        """Describe one entry."""

    @abstractmethod
    def chmod(self, mode: str | int, remote: str) -> None:
        """Change permission bits."""
