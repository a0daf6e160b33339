"""Fast file transfers: pipelined SFTP reads and writes with a bounded window.

paramiko's own ``getfo`` asks for a whole file at once (unbounded prefetch)
and its ``putfo`` writes 32 KiB at a time; both leave most of the link idle
or flood it. Here a fixed number of requests of ``chunk`` bytes is kept in
flight, answers are matched by request id (servers may answer out of order),
short reads are re-asked, and an optional bandwidth limit paces the sender.
"""

from __future__ import annotations

import contextlib
import stat
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from paramiko.message import Message
from paramiko.sftp import (
    CMD_ATTRS,
    CMD_CLOSE,
    CMD_DATA,
    CMD_HANDLE,
    CMD_OPEN,
    CMD_READ,
    CMD_STAT,
    CMD_STATUS,
    CMD_WRITE,
    SFTP_FLAG_CREATE,
    SFTP_FLAG_READ,
    SFTP_FLAG_TRUNC,
    SFTP_FLAG_WRITE,
    int64,
)
from paramiko.sftp_attr import SFTPAttributes
from paramiko.sftp_client import SFTPClient
from paramiko.ssh_exception import SSHException

# Writes up to this size are batched with the close (copied once into the batch).
_SMALL = 65536


class Throttle:
    """Paces all transfers of one connection to ``kbit_per_s`` (1 Kbit = 1024 bits, as ``sftp -l``).

    Shared by the connection's transfer workers, so the limit holds for the
    connection as a whole. A pause of more than a second starts a new
    measuring window, so idle time is not banked as a burst.
    """

    IDLE_S = 1.0

    def __init__(self, kbit_per_s: int) -> None:
        self.bytes_per_s = kbit_per_s * 1024 / 8
        self.started = 0.0
        self.last = 0.0
        self.sent = 0
        self._lock = threading.Lock()

    def wait(self, nbytes: int) -> None:
        """Sleep until sending ``nbytes`` more keeps the average at or under the limit."""
        if self.bytes_per_s <= 0:
            return
        with self._lock:
            now = time.monotonic()
            if not self.sent or now - self.last > self.IDLE_S:
                self.started, self.sent = now, 0
            due = self.started + self.sent / self.bytes_per_s  # when this chunk may start
            self.sent += nbytes
            self.last = max(now, due)
        if due > now:
            time.sleep(due - now)


@dataclass
class _Replies:
    """Collects answers to our requests; paramiko calls ``_async_response`` for each."""

    got: dict[int, tuple[int, Message]]

    def _async_response(self, kind: int, msg: Message, num: int) -> None:
        self.got[num] = (kind, msg)


def _wait(sftp: Any, replies: _Replies, num: int) -> tuple[int, Message]:
    while num not in replies.got:
        sftp._read_response()
    return replies.got.pop(num)


def _open(sftp: Any, path: str, flags: int, mode: int | None = None) -> bytes:
    attrs = SFTPAttributes()
    if mode is not None:
        attrs.st_mode = mode
    kind, msg = sftp._request(CMD_OPEN, path, flags, attrs)
    if kind != CMD_HANDLE:
        raise OSError(f"unexpected answer {kind} to open")
    handle: bytes = msg.get_binary()
    return handle


def _close(sftp: Any, handle: bytes) -> None:
    sftp._request(CMD_CLOSE, handle)


def stat_and_open(sftp: SFTPClient, path: str) -> tuple[SFTPAttributes, bytes | None]:
    """Stat ``path`` and open it for reading in one round trip.

    Returns the attributes and a read handle; the handle is ``None`` for a
    directory (which is never read). Raises OSError when the path is missing.
    """
    client: Any = sftp
    replies = _Replies({})
    with _batch(client):
        stat_num = client._async_request(replies, CMD_STAT, path)
        open_num = client._async_request(replies, CMD_OPEN, path, SFTP_FLAG_READ, SFTPAttributes())
    stat_kind, stat_msg = _wait(client, replies, stat_num)
    open_kind, open_msg = _wait(client, replies, open_num)
    handle = open_msg.get_binary() if open_kind == CMD_HANDLE else None
    if stat_kind != CMD_ATTRS:
        if handle is not None:
            close_later(sftp, handle)
        client._convert_status(stat_msg)
        raise OSError(f"unexpected answer {stat_kind} to stat")
    attrs: SFTPAttributes = SFTPAttributes._from_msg(stat_msg)  # type: ignore[attr-defined]
    if stat.S_ISDIR(attrs.st_mode or 0):
        if handle is not None:
            close_later(sftp, handle)
        return attrs, None
    if handle is None:
        client._convert_status(open_msg)
        raise OSError(f"unexpected answer {open_kind} to open")
    return attrs, handle


def _batch(client: Any) -> contextlib.AbstractContextManager[None]:
    """Send the requests of a block together where the client can (see channel.TunedSFTPClient)."""
    return client.batch() if hasattr(client, "batch") else contextlib.nullcontext()


def close_later(sftp: SFTPClient, handle: bytes) -> None:
    """Close a read handle without waiting; the answer is read with the next request's."""
    client: Any = sftp
    client._async_request(_Replies({}), CMD_CLOSE, handle)


def download(
    sftp: SFTPClient,
    handle: bytes,
    out: BinaryIO,
    size: int,
    *,
    chunk: int,
    in_flight: int,
    throttle: Throttle | None = None,
) -> int:
    """Read ``size`` bytes from an open handle into seekable ``out``; close it; return bytes read."""
    client: Any = sftp
    replies = _Replies({})
    pending: dict[int, tuple[int, int]] = {}  # request id -> (offset, length)
    order: deque[int] = deque()
    next_offset = 0
    received = 0
    position = 0
    closed = False
    try:
        if size <= chunk and throttle is None:
            # A small file: its one read and the close go out together.
            with _batch(client):
                if size:
                    num = client._async_request(replies, CMD_READ, handle, int64(0), size)
                    pending[num] = (0, size)
                    order.append(num)
                    next_offset = size
                close_later(sftp, handle)
            closed = True
        while True:
            while len(pending) < in_flight and next_offset < size:
                length = min(chunk, size - next_offset)
                if throttle is not None:
                    throttle.wait(length)
                num = client._async_request(replies, CMD_READ, handle, int64(next_offset), length)
                pending[num] = (next_offset, length)
                order.append(num)
                next_offset += length
            if not pending:
                break
            num = order.popleft()
            offset, length = pending.pop(num)
            kind, msg = _wait(client, replies, num)
            if kind == CMD_STATUS:
                client._convert_status(msg)  # raises: EOFError at end of file, OSError on error
                raise OSError(f"server answered a read at {offset} with no data")
            if kind != CMD_DATA:
                raise OSError(f"unexpected answer {kind} to read")
            data = msg.get_string()
            if position != offset:
                out.seek(offset)
            out.write(data)
            position = offset + len(data)
            received += len(data)
            if len(data) < length and closed:
                break  # the file shrank under us (the handle is closed already)
            if len(data) < length:  # a short read: ask for the rest at once
                rest = client._async_request(replies, CMD_READ, handle, int64(position), length - len(data))
                pending[rest] = (position, length - len(data))
                order.appendleft(rest)
    except EOFError:
        pass  # the file shrank while we read it; we keep what there was
    finally:
        _drain(client, replies, pending)
        if not closed:
            with contextlib.suppress(OSError, EOFError, SSHException):
                close_later(sftp, handle)
    return received


def upload(
    sftp: SFTPClient,
    source: BinaryIO,
    path: str,
    *,
    chunk: int,
    in_flight: int,
    mode: int | None = None,
    throttle: Throttle | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write everything from ``source`` to a new ``path`` (truncated); return bytes written."""
    client: Any = sftp
    handle = _open(client, path, SFTP_FLAG_WRITE | SFTP_FLAG_CREATE | SFTP_FLAG_TRUNC, mode)
    replies = _Replies({})
    pending: dict[int, tuple[int, int]] = {}
    order: deque[int] = deque()
    offset = 0
    closed = False
    try:
        upcoming = source.read(chunk)
        while True:
            data, upcoming = upcoming, (source.read(chunk) if upcoming else b"")
            last = not upcoming
            # The last write and the close go out together: one round trip and packet less.
            with _batch(client) if last and len(data) < _SMALL else contextlib.nullcontext():
                if data:
                    if throttle is not None:
                        throttle.wait(len(data))
                    if hasattr(client, "send_write"):
                        num = client.send_write(replies, handle, offset, data)
                    else:
                        num = client._async_request(replies, CMD_WRITE, handle, int64(offset), data)
                    pending[num] = (offset, len(data))
                    order.append(num)
                    offset += len(data)
                    if progress is not None:
                        progress(offset)
                if last:
                    num = client._async_request(replies, CMD_CLOSE, handle)
                    pending[num] = (offset, 0)
                    order.append(num)
                    closed = True
            data = b"" if last else data
            while order and (len(pending) >= in_flight or not data):
                num = order.popleft()
                pending.pop(num)
                kind, msg = _wait(client, replies, num)
                if kind != CMD_STATUS:
                    raise OSError(f"unexpected answer {kind} to write")
                client._convert_status(msg)
            if not data:
                break
    finally:
        _drain(client, replies, pending)
        if not closed:
            with contextlib.suppress(OSError, EOFError, SSHException):
                _close(client, handle)
    return offset


def _drain(client: Any, replies: _Replies, pending: dict[int, tuple[int, int]]) -> None:
    """Read the answers still owed to us so the channel stays in step for the next request."""
    for num in list(pending):
        try:
            _wait(client, replies, num)
        except (OSError, EOFError, SSHException):
            return  # the channel is gone; the pool will replace this client
    pending.clear()
