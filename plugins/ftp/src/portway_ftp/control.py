"""The FTP control connection: stdlib ftplib with what FTPS servers need.

``ftplib.FTP_TLS`` lacks three things real servers ask for, added here:

* implicit TLS (port 990 style): the socket is wrapped before the banner;
* TLS session reuse on data connections: vsftpd's ``require_ssl_reuse=YES``
  (its default) refuses a data connection that does not resume the control
  connection's TLS session, as a guard against data-connection theft;
* ``TCP_NODELAY`` on control and data sockets, so that short commands and
  the last packet of a small file are not held back by Nagle's algorithm.

Names that are not valid in the connection's encoding survive a round trip
unchanged (``surrogateescape``), so a file listed can always be fetched.
"""

from __future__ import annotations

import contextlib
import ftplib
import socket
import ssl
from typing import Any

_ERRORS = "surrogateescape"


def _no_delay(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not TCP (e.g. a UNIX socket): nothing to tune
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ControlConnection(ftplib.FTP_TLS):
    """One FTP or FTPS control connection."""

    def __init__(self, context: ssl.SSLContext | None, *, implicit: bool, encoding: str, timeout: float):
        super().__init__(context=context, timeout=timeout, encoding=encoding)
        self.implicit = implicit
        self.tls = context is not None
        self.answered: str | None = None  # the last command that got a positive preliminary reply

    def sendcmd(self, cmd: str) -> str:
        self.answered = None
        response = super().sendcmd(cmd)
        self.answered = cmd
        return response

    def connect(
        self, host: str = "", port: int = 0, timeout: float = -999, source_address: Any = None
    ) -> str:
        """Open the socket (wrapped at once for implicit TLS) and read the banner."""
        self.host = host
        self.port = port
        if timeout != -999:
            self.timeout = timeout
        sock = socket.create_connection((host, port), self.timeout, source_address=source_address)
        try:
            _no_delay(sock)
            if self.implicit:
                sock = self.context.wrap_socket(sock, server_hostname=host)
            self.sock = sock
            self.af = sock.family
            self.file = sock.makefile("r", encoding=self.encoding, errors=_ERRORS)
            self.welcome = self.getresp()
        except BaseException:
            sock.close()
            raise
        return self.welcome

    def auth(self) -> str:
        """``AUTH TLS`` and re-open the reader over the TLS socket (keeping the errors policy)."""
        response = super().auth()
        self.file = self._socket().makefile("r", encoding=self.encoding, errors=_ERRORS)
        return response

    def use_encoding(self, encoding: str) -> None:
        """Switch the name encoding (between commands, when nothing is buffered)."""
        self.encoding = encoding
        self.file = self._socket().makefile("r", encoding=encoding, errors=_ERRORS)

    def _socket(self) -> socket.socket:
        if self.sock is None:
            raise EOFError("the control connection is closed")
        return self.sock

    def set_timeout(self, seconds: float) -> None:
        """Timeout of each read and write on the control socket from now on."""
        if self.sock is not None:
            self.sock.settimeout(seconds)

    def putline(self, line: str) -> None:
        if "\r" in line or "\n" in line:
            raise ValueError("an FTP command cannot contain a line break")
        if self.sock is None:
            raise EOFError("the control connection is closed")
        self.sock.sendall((line + "\r\n").encode(self.encoding, _ERRORS))

    def ntransfercmd(self, cmd: str, rest: int | str | None = None) -> tuple[socket.socket, int | None]:
        """Open the data connection; under PROT P, resume the control connection's TLS session."""
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        try:
            _no_delay(conn)
            if self._prot_p:  # type: ignore[attr-defined]
                session = getattr(self.sock, "session", None)
                conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        except BaseException:
            conn.close()
            raise
        return conn, size

    def decode(self, data: bytes) -> str:
        """Text of a listing received on a data connection, in the connection's encoding."""
        return data.decode(self.encoding, _ERRORS)
