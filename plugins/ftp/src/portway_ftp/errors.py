"""FTP failures as :mod:`portway.files` errors that name the path and quote the server.

Every error raised by the FTP client is a :class:`~portway.files.FileError`
(so a service written for SFTP catches the same classes) and has a
``reply`` attribute: the server's reply text, or ``None`` when the failure
was local (a refused socket, a certificate the client rejected).
"""

from __future__ import annotations

import ftplib
from typing import NoReturn, TypeVar

from portway.files import (
    AlreadyExists,
    ConnectError,
    FileError,
    IsADirectory,
    NoSpace,
    NotADirectory,
    NotFound,
    PermissionDenied,
    TransferError,
    Unsupported,
)

E = TypeVar("E", bound=FileError)


class LoginRefused(ConnectError):
    """The server refused the user name or password (reply 530)."""


class CertificateRejected(ConnectError):
    """The server's TLS certificate failed verification (untrusted CA or wrong host name)."""


class TlsRefused(ConnectError):
    """The server does not offer, or rejected, a TLS feature the connection needs."""


class DataConnectionFailed(TransferError):
    """The data connection for a transfer or listing could not be made."""


class ConnectionLost(TransferError):
    """The control connection dropped or stopped answering; the client must be replaced."""


class ServerRefused(FileError):
    """The server refused a command for a reason that fits no narrower class."""


_DATA_HINT = (
    "a firewall or NAT may be blocking the data connection; try passive=false (active mode) "
    "if passive is on, or passive=true if it is off"
)

# Words servers use in 550 replies, checked in order; the first match decides.
_TEXT_CLASSES: tuple[tuple[tuple[str, ...], type[FileError]], ...] = (
    (("not a directory",), NotADirectory),
    (("is a directory",), IsADirectory),
    (("exists",), AlreadyExists),
    (("no such", "not found", "not exist", "cannot find", "can't find", "doesn't exist"), NotFound),
    (
        ("permission", "denied", "not allowed", "access", "forbidden", "read-only", "privilege"),
        PermissionDenied,
    ),
    (("space", "quota", "disk full"), NoSpace),
)


def with_reply(error: E, reply: str | None) -> E:
    """Attach the server's reply text to ``error`` and return it."""
    # The kernel's FileError has no reply field (SFTP has no reply text), so it is set per instance.
    error.reply = reply  # type: ignore[attr-defined]
    return error


def reply_code(reply: str) -> int:
    """The three-digit code at the start of a reply, or 0 when there is none."""
    head = reply[:3]
    return int(head) if head.isdigit() else 0


def from_reply(path: str, action: str, reply: str) -> FileError:
    """The error for a negative reply ``reply`` to ``action`` on ``path``.

    The message reads like ``/in/a.txt: download refused by the server: 550 No such file``.
    """
    reply = reply.strip()
    code = reply_code(reply)
    reason = f"{action} refused by the server: {reply}"
    lowered = reply.lower()
    cls: type[FileError]
    if code == 421:
        cls = ConnectionLost
        reason = f"{action} failed, the server closed the connection: {reply}"
    elif code in (425, 426):
        cls = DataConnectionFailed
        reason = f"{action} failed, data connection: {reply}; {_DATA_HINT}"
    elif code == 522 or (code == 534 and "ssl" in lowered):
        cls = TlsRefused
        reason = f"{action} refused, TLS: {reply}"
    elif code == 530:
        cls = PermissionDenied
        reason = f"{action} refused, not logged in or not allowed: {reply}"
    elif code in (452, 552):
        cls = NoSpace
    elif code in (500, 502, 504):
        cls = Unsupported
        reason = f"{action} is not supported by this server: {reply}"
    elif code == 553:
        cls = PermissionDenied
        reason = f"{action} refused, file name not allowed: {reply}"
    else:
        cls = _by_text(lowered) or ServerRefused
    return with_reply(cls(path, reason), reply)


def _by_text(lowered: str) -> type[FileError] | None:
    for words, cls in _TEXT_CLASSES:
        if any(word in lowered for word in words):
            return cls
    return None


def data_connection_failed(path: str, action: str, detail: str) -> DataConnectionFailed:
    """The error for a data connection that could not be opened or accepted."""
    error = DataConnectionFailed(path, f"{action} failed, data connection: {detail}; {_DATA_HINT}")
    with_reply(error, None)
    return error


def unsupported(path: str, what: str) -> Unsupported:
    """The error for an operation FTP cannot do at all."""
    error = Unsupported(path, what)
    with_reply(error, None)
    return error


def narrowed(better: FileError, original: FileError) -> NoReturn:
    """Raise ``better`` chained to ``original``, or ``original`` untouched (its cause kept)."""
    if better is original:
        raise original
    raise better from original


def reason_of(exc: BaseException) -> str:
    """A one-line reason: the message, or the type when there is none."""
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
