"""Moving bytes over an FTP data connection, as fast as the socket allows.

One preallocated buffer per transfer (``recv_into``/``readinto``, no
per-block allocation) and ``sendall`` of large blocks.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable
from typing import BinaryIO

Source = BinaryIO | bytes | bytearray | memoryview
Sink = Callable[[memoryview], object]


class DataBroken(Exception):
    """The data connection failed part way (as opposed to the local file or sink)."""

    def __init__(self, cause: OSError, moved: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.moved = moved


def receive(conn: socket.socket, block_size: int, sink: Sink) -> int:
    """Read the data connection to its end into ``sink``; return the byte count."""
    buffer = memoryview(bytearray(block_size))
    received = 0
    filled = 0
    while True:
        # TLS hands out one 16 KiB record per read: fill the whole block
        # before passing it on, so the sink sees few large writes.
        try:
            count = conn.recv_into(buffer[filled:])
        except OSError as exc:
            raise DataBroken(exc, received + filled) from exc
        filled += count
        if count and filled < block_size:
            continue
        if filled:
            sink(buffer[:filled])
            received += filled
            filled = 0
        if not count:
            break
    end_tls(conn)
    return received


def send(conn: socket.socket, source: Source, block_size: int) -> int:
    """Send all of ``source`` on the data connection; return the byte count."""
    if isinstance(source, bytes | bytearray | memoryview):
        return _send_view(conn, memoryview(source).cast("B"), block_size)
    # Measured against pyftpdlib on loopback, readinto + sendall of 1 MiB blocks
    # beat socket.sendfile (sendfile(2)) by 10-20%, so there is one path for all.
    buffer = memoryview(bytearray(block_size))
    sent = 0
    while True:
        count = source.readinto(buffer)  # type: ignore[attr-defined]
        if not count:
            break
        try:
            conn.sendall(buffer[:count])
        except OSError as exc:
            raise DataBroken(exc, sent) from exc
        sent += count
    end_tls(conn)
    return sent


def _send_view(conn: socket.socket, view: memoryview, block_size: int) -> int:
    sent = 0
    try:
        for start in range(0, len(view), block_size):
            chunk = view[start : start + block_size]
            conn.sendall(chunk)
            sent += len(chunk)
    except OSError as exc:
        raise DataBroken(exc, sent) from exc
    end_tls(conn)
    return sent


def end_tls(conn: socket.socket) -> None:
    """Close TLS on a data connection cleanly (close_notify), as RFC 4217 asks.

    A failure here is not a failed transfer: the server's final reply (226)
    is what says whether all data arrived, and the caller reads it next.
    """
    if isinstance(conn, ssl.SSLSocket):
        with contextlib.suppress(OSError, ValueError):
            conn.unwrap()
