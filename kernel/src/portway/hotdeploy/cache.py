"""Bytecode of deployed files, packed into one marshal file so a cold boot is one read.

``ENV/cache/services.pack`` holds, for every known file, the content hash
of the source it was compiled from and the code object. The pack starts
with ``importlib.util.MAGIC_NUMBER``: a pack from another Python version is
ignored whole. An entry is served only for the exact bytes it was compiled
from: the file's bytes must hash to the stored digest. The cache is written
by portway itself, not by the import system, so it works the same with
``PYTHONDONTWRITEBYTECODE=1``.

Boot skips even reading the file when its stat signature (inode, size,
mtime and ctime in nanoseconds) equals the one recorded when its bytes were
hashed, the way git's index does. ctime cannot be set from user space, so
any write since then changes the signature. The one hole, a write landing
in the same coarse timestamp tick as the hashing, is closed as git closes
it: a signature recorded less than ``RACY_NS`` after the file's last change
is not trusted, and that file is read and hashed again.

The pack also keeps each entry's module name (a hash of its path, worth not
redoing for thousands of files) and the pickup folders' listings (see
:mod:`portway.hotdeploy.listing`).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import threading
import types
from importlib.util import MAGIC_NUMBER
from pathlib import Path

import structlog

log = structlog.get_logger("portway.hotdeploy")

PACK_NAME = "services.pack"
# Bumped when the pack layout changes, beside Python's own magic.
LAYOUT = 3
# A file changed less than this long before it was hashed may change again within the same
# timestamp tick: its stat signature is not trusted (timestamps can be a few ms coarse).
RACY_NS = 2_000_000_000

Signature = tuple[int, int, int, int]
# digest of the source, its code, stat signature when the bytes were hashed, module name
Entry = tuple[bytes, types.CodeType, Signature | None, str]
# a folder's stat signature when listed, its service files, its subfolders (all full paths)
Listing = tuple[Signature, tuple[str, ...], tuple[str, ...]]


def digest_of(source: bytes) -> bytes:
    """Content hash that keys a cache entry (16 bytes of BLAKE2b)."""
    return hashlib.blake2b(source, digest_size=16).digest()


def signature(st: os.stat_result, hashed_at_ns: int) -> Signature | None:
    """The stat signature to record for bytes hashed at ``hashed_at_ns``; None when racy."""
    if max(st.st_mtime_ns, st.st_ctime_ns) >= hashed_at_ns - RACY_NS:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class BytecodeCache:
    """Code objects by file path, valid only for the exact bytes they came from."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / PACK_NAME if folder is not None else None
        self._entries: dict[str, Entry] = {}
        self.listings: dict[str, Listing] = {}  # by folder path
        self._dirty = False
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.stat_hits = 0  # files not even read: stat signature matched

    def load(self) -> int:
        """Read the pack (one read, one unmarshal); return how many entries it held."""
        if self.path is None:
            return 0
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.warning("cache_unreadable", path=str(self.path), error=exc.strerror)
            return 0
        try:
            magic, layout, *rest = marshal.loads(data)
        except (EOFError, ValueError, TypeError) as exc:
            # A torn or foreign file: start cold rather than trust it.
            log.warning("cache_corrupt", path=str(self.path), error=str(exc))
            return 0
        if magic != MAGIC_NUMBER or layout != LAYOUT or len(rest) != 2 or not isinstance(rest[0], dict):
            log.info("cache_other_python", path=str(self.path))
            return 0
        self._entries, self.listings = rest
        return len(self._entries)

    def by_stat(self, path: str) -> Entry | None:
        """The entry of ``path`` when the file's stat signature is the one recorded with it.

        None when there is no such entry, the signature differs or the file cannot be stat'ed.
        """
        entry = self._entries.get(path)
        if entry is None or entry[2] is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        if entry[2] != (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            return None
        self.stat_hits += 1
        return entry

    def get(self, path: str, digest: bytes) -> types.CodeType | None:
        """The cached code of ``path`` if it was compiled from bytes hashing to ``digest``."""
        entry = self._entries.get(path)
        if entry is not None and entry[0] == digest:
            self.hits += 1
            return entry[1]
        self.misses += 1
        return None

    def put(self, path: str, digest: bytes, code: types.CodeType, module_name: str) -> None:
        with self._lock:
            self._entries[path] = (digest, code, None, module_name)
            self._dirty = True

    def sign(self, path: str, digest: bytes, sig: Signature | None) -> None:
        """Record the stat signature under which ``path`` had bytes hashing to ``digest``."""
        entry = self._entries.get(path)
        if entry is not None and entry[0] == digest and entry[2] != sig:
            with self._lock:
                self._entries[path] = (digest, entry[1], sig, entry[3])
                self._dirty = True

    def set_listings(self, listings: dict[str, Listing]) -> None:
        """Keep these folder listings (and only these) in the pack; the caller knows they changed."""
        with self._lock:
            self.listings = listings
            self._dirty = True

    def save(self, keep: set[str]) -> bool:
        """Write the pack atomically with the entries of ``keep`` paths; return whether it wrote."""
        if self.path is None:
            return False
        with self._lock:
            stale = [p for p in self._entries if p not in keep]
            if not self._dirty and not stale:
                return False
            for p in stale:
                del self._entries[p]
            data = marshal.dumps((MAGIC_NUMBER, LAYOUT, dict(self._entries), self.listings))
            self._dirty = False
        tmp = self.path.with_name(f".{PACK_NAME}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, self.path)  # readers see the old pack or the new one, never half
        except OSError as exc:
            log.warning("cache_not_written", path=str(self.path), error=exc.strerror)
            tmp.unlink(missing_ok=True)
            return False
        return True

    def __len__(self) -> int:
        return len(self._entries)
