"""Turn paramiko and socket exceptions into :mod:`portway.files` errors a user can act on."""

from __future__ import annotations

import errno
import socket

from portway.files import (
    ConnectError,
    FileError,
    NotFound,
    PermissionDenied,
    TransferError,
)


class AuthenticationFailed(ConnectError):
    """The server refused the user name, password or key."""


class HostKeyRejected(ConnectError):
    """The server's host key is unknown (strict policy) or differs from known_hosts."""


class HostNotFound(ConnectError):
    """The host name does not resolve (DNS)."""


class ConnectionRefused(ConnectError):
    """Nothing listens on the address, or a firewall said no."""


class ConnectTimedOut(ConnectError):
    """No answer in time while connecting or logging in."""


class ConnectionLost(TransferError):
    """The SSH connection dropped during an operation; the pool replaces the client."""


class OperationTimedOut(TransferError):
    """The server did not answer one request in time."""


def file_error(exc: BaseException, path: str) -> FileError:
    """The FileError for ``exc`` raised while working on remote ``path``."""
    from paramiko.ssh_exception import SSHException

    if isinstance(exc, FileError):
        return exc
    if isinstance(exc, socket.timeout | TimeoutError):
        return OperationTimedOut(path, "the server did not answer in time (see the timeout setting)")
    if isinstance(exc, EOFError | SSHException | ConnectionError | BrokenPipeError):
        text = str(exc).strip() or "connection closed"
        return ConnectionLost(path, f"the SSH connection dropped: {text}")
    if isinstance(exc, OSError):
        text = (exc.strerror or str(exc)).strip() or type(exc).__name__
        if exc.errno == errno.ENOENT:
            return NotFound(path, text)
        if exc.errno == errno.EACCES:
            return PermissionDenied(path, text)
        if "socket is closed" in text.lower():
            return ConnectionLost(path, f"the SSH connection dropped: {text}")
        return FileError(path, text)
    return FileError(path, f"{type(exc).__name__}: {exc}")


def is_broken(exc: BaseException) -> bool:
    """Whether a client that raised ``exc`` must be discarded instead of reused."""
    from paramiko.ssh_exception import SSHException

    if isinstance(exc, ConnectionLost | OperationTimedOut | ConnectError):
        return True
    if isinstance(exc, FileError):
        return False  # the server answered: the connection is fine
    return isinstance(exc, EOFError | SSHException | OSError)
