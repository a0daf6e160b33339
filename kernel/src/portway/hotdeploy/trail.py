"""Which service file is being imported right now, kept where it survives the process.

A file's top level can end the whole server in ways no ``except`` sees:
``os._exit()``, a crash inside a C extension, the kernel's OOM killer. The
server then dies with nothing in its log naming the file. The trail is a
small memory-mapped file (``ENV/cache/importing``): a batch writes its
paths there once, and the import thread writes the index of each file
before it runs it (one store into shared memory, no system call). The
kernel keeps a dead process's writes to a shared mapping, so whoever looks
afterwards (``portway start`` on an early exit, the next server at start)
reads which file it was.

Layout: ``PWTR``, the writer's pid (u32), the index of the file being
imported (i32, -1 for none), the length of the path list (u32), then the
paths joined by NUL (which no path holds).
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Sequence
from pathlib import Path

TRAIL_NAME = "importing"
_MAGIC = b"PWTR"
_HEADER = struct.Struct("=4sIiI")
_INDEX_AT = 8  # offset of the index in the header


def trail_path(cache_dir: Path) -> Path:
    """Where an environment's server keeps its trail."""
    return cache_dir / TRAIL_NAME


class ImportTrail:
    """The writing side, owned by one server process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.ftruncate(fd, mmap.PAGESIZE)
            self._map = mmap.mmap(fd, mmap.PAGESIZE)
        finally:
            os.close(fd)  # the mapping keeps the file
        self.path = path
        _HEADER.pack_into(self._map, 0, _MAGIC, os.getpid(), -1, 0)
        self._cell = memoryview(self._map)[_INDEX_AT : _INDEX_AT + 4].cast("i")

    def begin(self, paths: Sequence[str]) -> memoryview:
        """Record a batch's paths; return the cell the import thread writes each file's index to."""
        self._cell[0] = -1
        blob = "\0".join(paths).encode("utf-8", "surrogateescape")
        needed = _HEADER.size + len(blob)
        if needed > len(self._map):
            self._cell.release()
            self._map.resize((needed // mmap.PAGESIZE + 1) * mmap.PAGESIZE)
            self._cell = memoryview(self._map)[_INDEX_AT : _INDEX_AT + 4].cast("i")
        self._map[_HEADER.size : needed] = blob
        _HEADER.pack_into(self._map, 0, _MAGIC, os.getpid(), -1, len(blob))
        return self._cell

    def end(self) -> None:
        """The batch is over: no file is being imported."""
        self._cell[0] = -1


def last_import(path: Path, pid: int | None = None) -> str | None:
    """The file being imported when the trail's writer stopped, if it stopped in an import.

    With ``pid``, only a trail written by that process counts (an older one says nothing
    about it). None when there is no trail, it is damaged, or no import was under way.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < _HEADER.size:
        return None
    magic, writer, index, length = _HEADER.unpack_from(data)
    if magic != _MAGIC or index < 0 or (pid is not None and writer != pid):
        return None
    paths = data[_HEADER.size : _HEADER.size + length].decode("utf-8", "surrogateescape").split("\0")
    return paths[index] if index < len(paths) else None
