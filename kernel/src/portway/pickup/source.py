"""Where a pickup channel's files are: the small protocol every kind of folder offers, and the local one.

The engine (:mod:`portway.pickup.engine`) does everything else (read locks,
the idempotent repository, the lease, retries, moves) the same way for a
local folder, SFTP and FTP.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Protocol


class Entry(NamedTuple):
    """One entry of a listed folder.

    A named tuple, not a frozen dataclass: a poll makes one for every file of
    its folder, and a tuple is built in half the time (bench/pickup.py).
    """

    name: str
    path: str  # as the source names it (absolute local path, remote path)
    size: int
    mtime: float  # seconds since the epoch
    is_dir: bool = False


class Source(Protocol):
    """A folder a pickup channel watches: list it, read or stream a file, rename, delete, make folders.

    A source may also offer ``read_many(paths) -> list[bytes | Exception]``
    (one result per path, in order) to read a group of files in fewer round
    trips; without it the engine reads one file at a time
    (:mod:`portway.pickup.prefetch`).
    """

    connection: str | None  # the connection's name (remote sources), for the service's ``request.meta``

    def describe(self, path: str) -> str:
        """Where ``path`` is, for logs and errors (no secret)."""
        ...

    def join(self, folder: str, name: str) -> str: ...

    def list(self, folder: str) -> list[Entry]:
        """The entries of ``folder`` (one level); raise ``OSError``/``FileError`` when it cannot be read."""
        ...

    def stat(self, path: str) -> Entry | None:
        """The entry at ``path``, or ``None`` when there is none."""
        ...

    def read(self, path: str) -> bytes: ...

    def local_copy(self, path: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the content of ``path`` for as long as the block runs (to stream from)."""
        ...

    def rename(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``, replacing nothing: raise when ``target`` exists."""
        ...

    def delete(self, path: str) -> None: ...

    def make_folders(self, folder: str) -> None:
        """Create ``folder`` and its missing parents; nothing when it exists."""
        ...


FIRST_READ = 64 * 1024  # bytes a local read asks for first: most files are smaller, and then it is all


class LocalSource:
    """A folder on this machine."""

    connection: str | None = None

    def describe(self, path: str) -> str:
        return f"folder {path}"

    def join(self, folder: str, name: str) -> str:
        return os.path.join(folder, name)

    def list(self, folder: str) -> list[Entry]:
        found = []
        with os.scandir(folder) as entries:
            for item in entries:
                try:
                    info = item.stat(follow_symlinks=False)
                except FileNotFoundError:  # gone between the listing and the stat
                    continue
                # Regular files and folders only. Not a symlink: it may point anywhere this server
                # can read (outside file_roots, or back up the tree), nor a FIFO, socket or device,
                # which could block the read.
                is_dir = stat.S_ISDIR(info.st_mode)
                if is_dir or stat.S_ISREG(info.st_mode):
                    found.append(Entry(item.name, item.path, info.st_size, info.st_mtime_ns / 1e9, is_dir))
        return found

    def stat(self, path: str) -> Entry | None:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return None
        is_dir = stat.S_ISDIR(info.st_mode)  # from the stat at hand, not a second one
        return Entry(os.path.basename(path), path, info.st_size, info.st_mtime_ns / 1e9, is_dir)

    def read(self, path: str) -> bytes:
        # os.read, not a buffered reader to build, for what is often a few KiB. Put in place of
        # the file since the listing, a FIFO reads as empty (non-blocking: the poll does not
        # hang) and a symlink is refused (O_NOFOLLOW).
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW)
        try:
            data = os.read(fd, FIRST_READ)
            if len(data) < FIRST_READ:  # a short read of a regular file is its end: no fstat needed
                return data
            parts = [data, os.read(fd, max(1, os.fstat(fd).st_size + 1 - FIRST_READ))]
            while chunk := os.read(fd, 1 << 20):  # grown since the stat: read what is there now
                parts.append(chunk)
            return b"".join(parts)
        finally:
            os.close(fd)

    def read_many(self, paths: builtins.list[str]) -> builtins.list[bytes | Exception]:
        """Each file's content (or its error), read one after another in a tight loop.

        Local reads cost the same either way, but the engine's code between two
        services pushes the kernel's file paths out of the CPU caches: a group
        read together took 11 us a file where reads between services took 20.
        """
        contents: builtins.list[bytes | Exception] = []
        for path in paths:
            try:
                contents.append(self.read(path))
            except OSError as exc:
                contents.append(exc)
        return contents

    @contextlib.contextmanager
    def local_copy(self, path: str) -> Iterator[Path]:
        yield Path(path)

    def rename(self, source: str, target: str) -> None:
        # link + unlink refuses an existing target where os.rename would silently replace it,
        # and raises no IN_MOVED_FROM (which watchdog holds back, and every event behind it, 0.5 s).
        try:
            os.link(source, target)
        except OSError as exc:
            if isinstance(exc, FileExistsError) or not os.path.exists(source):
                raise
            if os.path.lexists(target):
                raise FileExistsError(target) from None
            os.rename(source, target)  # a file system without hard links (some FUSE, SMB)
            return
        os.unlink(source)

    def delete(self, path: str) -> None:
        os.unlink(path)

    def make_folders(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
