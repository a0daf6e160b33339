"""An SFTP channel without paramiko's copy-heavy buffering.

paramiko keeps a channel's incoming data in one ``array`` and deletes from
its front on every read, so each read moves everything still buffered; with
a window of several MiB and SFTP reading a 4-byte length and then the body,
that memmove dominates a download. Its SFTP layer also re-slices the unsent
rest of a message after every send and concatenates received pieces one by
one. Here the channel buffer is a queue of the chunks as they arrived, and
the SFTP client reads and writes through memoryviews.
"""

from __future__ import annotations

import contextlib
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import paramiko
from paramiko.buffered_pipe import PipeTimeout
from paramiko.sftp import CMD_WRITE

# Data that fits beside a request's header in the first 32 KiB SSH packet.
_FIRST_PACKET = 32768 - 64


class ChunkPipe:
    """Drop-in for ``paramiko.buffered_pipe.BufferedPipe`` that never moves buffered bytes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self._event: threading.Event | None = None
        self._chunks: deque[bytes] = deque()
        self._offset = 0  # bytes of the first chunk already read
        self._size = 0
        self._closed = False

    def set_event(self, event: threading.Event) -> None:
        with self._lock:
            self._event = event
            if self._closed or self._size:
                event.set()
            else:
                event.clear()

    def feed(self, data: bytes) -> None:
        with self._lock:
            if self._event is not None:
                self._event.set()
            if data:
                self._chunks.append(bytes(data))
                self._size += len(data)
            self._cv.notify_all()

    def read_ready(self) -> bool:
        with self._lock:
            return self._size > 0

    def read(self, nbytes: int, timeout: float | None = None) -> bytes:
        with self._lock:
            if not self._size:
                if self._closed:
                    return b""
                if timeout == 0.0:
                    raise PipeTimeout()
                while not self._size and not self._closed:
                    started = time.monotonic()
                    self._cv.wait(timeout)
                    if timeout is not None:
                        timeout -= time.monotonic() - started
                        if timeout <= 0.0 and not self._size:
                            raise PipeTimeout()
                if not self._size:
                    return b""
            out = self._take(nbytes)
            if not self._size and self._event is not None and not self._closed:
                self._event.clear()
            return out

    def _take(self, nbytes: int) -> bytes:
        first = self._chunks[0]
        available = len(first) - self._offset
        if self._offset == 0 and available <= nbytes:
            self._chunks.popleft()  # the common case: hand the chunk over as is
            self._size -= available
            return first
        count = min(available, nbytes)
        out = first[self._offset : self._offset + count]
        self._offset += count
        self._size -= count
        if self._offset == len(first):
            self._chunks.popleft()
            self._offset = 0
        return out

    def empty(self) -> bytes:
        with self._lock:
            parts = [self._chunks[0][self._offset :], *list(self._chunks)[1:]] if self._chunks else []
            self._chunks.clear()
            self._offset = self._size = 0
            if self._event is not None and not self._closed:
                self._event.clear()
            return b"".join(parts)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._cv.notify_all()
            if self._event is not None:
                self._event.set()

    def __len__(self) -> int:
        with self._lock:
            return self._size


class TunedSFTPClient(paramiko.SFTPClient):
    """paramiko's SFTP client reading and writing whole messages without re-copying.

    Inside :meth:`batch`, requests are collected and sent together in one
    SSH packet: fewer packets and system calls for the short request
    sequences small files need (stat + open, write + close).
    """

    _batch: list[bytes] | None = None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Send the requests made inside the block at once, when it ends (even on error)."""
        if self._batch is not None:  # already batching: join the outer batch
            yield
            return
        self._batch = []
        try:
            yield
        finally:
            parts, self._batch = self._batch, None
            if parts:
                self._write_all(b"".join(parts))

    def send_write(self, replies: Any, handle: bytes, offset: int, data: bytes) -> int:
        """Send one WRITE request without copying ``data`` into a message first; return its id.

        paramiko's generic path copies a write's data three times (into a
        message, out of it, into the framed packet); here only the part that
        shares the first SSH packet with the header is copied.
        """
        with self._lock:  # type: ignore[attr-defined]
            num: int = self.request_number
            self._expecting[num] = replies  # type: ignore[attr-defined]
            self.request_number += 1
        length = 1 + 4 + 4 + len(handle) + 8 + 4 + len(data)
        header = (
            struct.pack(">IBII", length, CMD_WRITE, num, len(handle))
            + handle
            + struct.pack(">QI", offset, len(data))
        )
        split = max(0, _FIRST_PACKET - len(header))
        view = memoryview(data)
        self._write_all(header + bytes(view[:split]))
        if len(data) > split:
            self._write_all(view[split:])
        return num

    def _write_all(self, out: bytes | memoryview) -> None:
        if self._batch is not None:
            self._batch.append(bytes(out))
            return
        view = memoryview(out)
        sock: Any = self.sock
        while view:
            sent = sock.send(view)
            if sent <= 0:
                raise EOFError()
            view = view[sent:]

    def _read_all(self, n: int) -> bytes:
        sock: Any = self.sock
        first = sock.recv(n)
        if not first:
            raise EOFError()
        if len(first) == n:
            return bytes(first)
        parts = [first]
        left = n - len(first)
        while left > 0:
            piece = sock.recv(left)
            if not piece:
                raise EOFError()
            parts.append(piece)
            left -= len(piece)
        return b"".join(parts)


def open_sftp(
    transport: paramiko.Transport, *, window_size: int, max_packet_size: int, timeout: float
) -> TunedSFTPClient:
    """Open a session channel with a :class:`ChunkPipe`, start the sftp subsystem on it."""
    channel = transport.open_session(window_size=window_size, max_packet_size=max_packet_size)
    channel.in_buffer = ChunkPipe()  # type: ignore[assignment]  # before any data can arrive
    channel.settimeout(timeout)
    channel.invoke_subsystem("sftp")
    return TunedSFTPClient(channel)
