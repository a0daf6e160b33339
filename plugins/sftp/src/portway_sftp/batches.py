"""Batched reads and renames for the file pickup: many small files in a few round trips.

These are plugin API of :class:`~portway_sftp.client.SftpClient`, not part
of the :class:`portway.files.FileClient` contract. The pickup takes files in
batches; reading them one by one costs two round trips per file (stat+open,
then read+close) and moving each aside one more. Here all requests of one
step go out in one write (``TunedSFTPClient.batch``) and their answers are
matched by request id, so a batch costs two round trips to read and one to
rename, whatever its size.

A path's own failure (missing, a directory, refused) is returned in its
place, as the :mod:`portway.files` error the single-file call would raise;
a failure of the connection raises for the whole call, so the pool
discards the client.
"""

from __future__ import annotations

import contextlib
import io
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from paramiko.message import Message
from paramiko.sftp import (
    CMD_ATTRS,
    CMD_CLOSE,
    CMD_DATA,
    CMD_HANDLE,
    CMD_OPEN,
    CMD_READ,
    CMD_RENAME,
    CMD_STAT,
    CMD_STATUS,
    SFTP_FLAG_READ,
    int64,
)
from paramiko.sftp_attr import SFTPAttributes
from paramiko.ssh_exception import SSHException

from portway.files import AlreadyExists, FileError, IsADirectory
from portway_sftp import transfer
from portway_sftp.connection import SftpConnection
from portway_sftp.failures import file_error, is_broken

# Most paths or pairs sent in one batch; longer lists go out in blocks of this
# size. It bounds the handles one call holds open on the server at once (OpenSSH's
# sftp-server takes as many as its process may open files) and the answers owed.
MAX_BATCH = 64
T = TypeVar("T")


@dataclass
class _Open:
    """A handle we hold on the server: ``wanted`` when the file is to be read."""

    handle: bytes
    size: int
    wanted: bool


class Batches(SftpConnection):
    """``read_many`` and ``rename_many``: the pickup's batched calls (plugin API)."""

    def read_many(self, paths: Sequence[str]) -> list[bytes | FileError]:
        """Return each file's contents, in order, or the error reading it alone would raise.

        The stat and open of every path go out in one batch, then the read
        and close of every file in a second one: two round trips for the
        lot. A file larger than the connection's read chunk is downloaded
        on its open handle with the pipelined transfer. A missing path gives
        :class:`~portway.files.NotFound`, a directory
        :class:`~portway.files.IsADirectory`, any other refusal the
        :class:`~portway.files.FileError` :meth:`read` would raise; the other
        paths are read regardless. A failure of the connection raises (a
        :class:`~portway.files.FileError` the plugin's ``is_broken`` calls
        broken). Every handle opened is closed before the call returns, also
        on error; when the connection drops, the server frees them with it.

        Meant for the pickup's batches (up to 32 files); at most
        :data:`MAX_BATCH` (64) paths go out at once, longer lists in blocks.
        """
        results: list[bytes | FileError] = []
        for block in _blocks(paths):
            results.extend(self._read_block([self._abs(path) for path in block]))
        return results

    def rename_many(self, pairs: Sequence[tuple[str, str]]) -> list[FileError | None]:
        """Rename each ``(source, target)`` as :meth:`rename_new` does; ``None`` per success.

        One SSH_FXP_RENAME per pair, all in one batch: one round trip for
        the lot. Plain rename refuses an existing target, so a pair whose
        target exists gets :class:`~portway.files.AlreadyExists` (one extra
        round trip per failed pair tells that apart from other failures); a
        missing source gives :class:`~portway.files.NotFound`. A failure of
        the connection raises for the whole call. At most :data:`MAX_BATCH`
        pairs go out at once, longer lists in blocks.
        """
        results: list[FileError | None] = []
        for block in _blocks(pairs):
            results.extend(self._rename_block([(self._abs(old), self._abs(new)) for old, new in block]))
        return results

    # -- reading ---------------------------------------------------------

    def _read_block(self, paths: list[str]) -> list[bytes | FileError]:
        results: list[bytes | FileError] = [b""] * len(paths)
        opened: dict[int, _Open] = {}  # by index into paths; emptied as handles are closed
        self._debug("read_many", count=len(paths), first=paths[0] if paths else None)
        if not paths:
            return results
        with self._lock:
            try:
                self._open_all(paths, results, opened)
                self._read_small(paths, results, opened)
                for index in sorted(opened):
                    self._read_big(paths[index], index, results, opened)
            finally:
                _close_quietly(self._sftp, opened)
        return results

    def _open_all(self, paths: list[str], results: list[bytes | FileError], opened: dict[int, _Open]) -> None:
        """Stat and open every path in one batch; note the handles and the per-path errors."""
        client: Any = self._sftp
        replies = transfer._Replies({})

        def send() -> list[tuple[int, int]]:
            with _batch(client):
                return [
                    (
                        client._async_request(replies, CMD_STAT, path),
                        client._async_request(replies, CMD_OPEN, path, SFTP_FLAG_READ, SFTPAttributes()),
                    )
                    for path in paths
                ]

        numbers = self._call(paths[0], send)
        for index, (path, (stat_num, open_num)) in enumerate(zip(paths, numbers, strict=True)):
            stat_kind, stat_msg = self._answer(replies, stat_num, path)
            open_kind, open_msg = self._answer(replies, open_num, path)
            if open_kind == CMD_HANDLE:
                opened[index] = _Open(open_msg.get_binary(), 0, wanted=False)
            error: FileError | None
            if stat_kind != CMD_ATTRS:
                error = _answer_error(client, stat_kind, stat_msg, path, "stat")
            else:
                attrs: SFTPAttributes = SFTPAttributes._from_msg(stat_msg)  # type: ignore[attr-defined]
                if stat.S_ISDIR(attrs.st_mode or 0):
                    error = IsADirectory(path, "is a directory, not a file")
                elif open_kind != CMD_HANDLE:
                    error = _answer_error(client, open_kind, open_msg, path, "open")
                else:
                    error = None
                    opened[index] = _Open(opened[index].handle, attrs.st_size or 0, wanted=True)
            if error is not None:
                results[index] = error

    def _read_small(
        self, paths: list[str], results: list[bytes | FileError], opened: dict[int, _Open]
    ) -> None:
        """Read every file of one chunk or less and close every handle but the big files', in one batch."""
        client: Any = self._sftp
        replies = transfer._Replies({})
        small = {
            i: entry for i, entry in opened.items() if not entry.wanted or entry.size <= self._read_chunk
        }
        if not small:
            return
        if self._pace is not None:  # the connection's bandwidth limit holds for batches too
            self._pace.wait(sum(entry.size for entry in small.values() if entry.wanted))

        def send() -> tuple[dict[int, int], list[int]]:
            reads: dict[int, int] = {}
            closes: list[int] = []
            with _batch(client):
                for index, entry in small.items():
                    if entry.wanted and entry.size:
                        reads[index] = client._async_request(
                            replies, CMD_READ, entry.handle, int64(0), entry.size
                        )
                    closes.append(client._async_request(replies, CMD_CLOSE, entry.handle))
            return reads, closes

        reads, closes = self._call(paths[min(small)], send)
        for index in small:
            del opened[index]  # its close is sent: the server frees it, whatever comes next
        short: list[int] = []
        for index, num in reads.items():
            kind, msg = self._answer(replies, num, paths[index])
            if kind == CMD_DATA:
                data = msg.get_string()
                results[index] = data
                if len(data) < small[index].size:
                    short.append(index)  # servers may answer a read with less than asked
            else:
                results[index] = _read_answer(client, kind, msg, paths[index])
        for num, index in zip(closes, small, strict=True):
            self._answer(replies, num, paths[index])  # read ignores a failed close; so do we
        for index in short:  # its handle is closed: open it again and read it the way that asks for the rest
            self._read_again(paths[index], index, results, opened)

    def _read_again(
        self, path: str, index: int, results: list[bytes | FileError], opened: dict[int, _Open]
    ) -> None:
        try:
            attrs, handle = self._call(path, lambda: transfer.stat_and_open(self._sftp, path))
        except FileError as exc:
            if is_broken(exc):
                raise
            results[index] = exc
            return
        if handle is None:
            results[index] = IsADirectory(path, "is a directory, not a file")
            return
        opened[index] = _Open(handle, attrs.st_size or 0, wanted=True)
        self._read_big(path, index, results, opened)

    def _read_big(
        self, path: str, index: int, results: list[bytes | FileError], opened: dict[int, _Open]
    ) -> None:
        """Download a file larger than a chunk on the handle we hold (the transfer closes it)."""
        entry = opened.pop(index)
        buffer = io.BytesIO()
        try:
            self._call(
                path,
                lambda: transfer.download(
                    self._sftp,
                    entry.handle,
                    buffer,
                    entry.size,
                    chunk=self._read_chunk,
                    in_flight=self.settings.requests_in_flight,
                    throttle=self._pace,
                ),
            )
        except FileError as error:
            if is_broken(error):
                raise
            results[index] = error
        else:
            results[index] = buffer.getvalue()

    # -- renaming --------------------------------------------------------

    def _rename_block(self, moves: list[tuple[str, str]]) -> list[FileError | None]:
        client: Any = self._sftp
        replies = transfer._Replies({})
        self._debug("rename_many", count=len(moves), first=moves[0][0] if moves else None)
        if not moves:
            return []

        def send() -> list[int]:
            with _batch(client):
                return [client._async_request(replies, CMD_RENAME, old, new) for old, new in moves]

        with self._lock:
            numbers = self._call(moves[0][0], send)
            answers = [
                self._answer(replies, num, old) for num, (old, _new) in zip(numbers, moves, strict=True)
            ]
        results: list[FileError | None] = []
        for (old, new), (kind, msg) in zip(moves, answers, strict=True):
            error = (
                _answer_error(client, kind, msg, old, "rename")
                if kind != CMD_STATUS
                else _status(client, msg, old)
            )
            # SFTP's generic failure with the target there now means it was there (as rename_new).
            if type(error) is FileError and self._exists(new):
                already = AlreadyExists(new, f"exists already (server said: {error.reason})")
                already.__cause__ = error
                error = already
            results.append(error)
        return results

    # -- answers ---------------------------------------------------------

    def _answer(self, replies: transfer._Replies, num: int, path: str) -> tuple[int, Message]:
        """Wait for the answer to request ``num``; a connection failure raises, naming ``path``."""
        client: Any = self._sftp
        return self._call(path, lambda: transfer._wait(client, replies, num))


def _blocks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), MAX_BATCH):
        yield items[start : start + MAX_BATCH]


def _batch(client: Any) -> contextlib.AbstractContextManager[None]:
    return client.batch() if hasattr(client, "batch") else contextlib.nullcontext()


def _status(client: Any, msg: Message, path: str) -> FileError | None:
    """The error a STATUS answer carries for ``path``; ``None`` for OK."""
    try:
        client._convert_status(msg)
    except EOFError as exc:  # an end-of-file status, not a dropped connection
        return FileError(path, str(exc) or "end of file")
    except OSError as exc:
        return file_error(exc, path)
    return None


def _answer_error(client: Any, kind: int, msg: Message, path: str, request: str) -> FileError:
    """The error for an answer that is not the one ``request`` should get."""
    error = _status(client, msg, path) if kind == CMD_STATUS else None
    return error or FileError(path, f"unexpected answer {kind} to {request}")


def _read_answer(client: Any, kind: int, msg: Message, path: str) -> bytes | FileError:
    """A read answered without data: end of file (the file is empty now) or an error."""
    if kind == CMD_STATUS:
        try:
            client._convert_status(msg)
        except EOFError:
            return b""  # the file shrank to nothing since its stat; read() gives the same
        except OSError as exc:
            return file_error(exc, path)
    return FileError(path, f"unexpected answer {kind} to read")


def _close_quietly(sftp: Any, opened: dict[int, _Open]) -> None:
    """Close the handles still held after a failure, without waiting (the channel may be gone)."""
    for entry in opened.values():
        with contextlib.suppress(OSError, EOFError, SSHException):
            transfer.close_later(sftp, entry.handle)
    opened.clear()
