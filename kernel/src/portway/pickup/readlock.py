"""The ``changed`` read lock: a file is complete once its size and mtime stop changing."""

from __future__ import annotations

import time
from dataclasses import dataclass

from portway.pickup.source import Entry


@dataclass
class _Seen:
    signature: tuple[int, float]
    counted_at: float
    looks: int


class StableFiles:
    """Files seen with the same size and mtime on ``checks`` looks at least ``interval_s`` apart.

    Looks closer together than the interval do not count: a channel woken by
    every inotify event of a slow writer looks often, and two looks between
    two of its writes must not pass for a finished file.
    """

    def __init__(self, checks: int, interval_s: float) -> None:
        self.checks = checks
        self.interval_s = interval_s
        self._seen: dict[str, _Seen] = {}

    def observe(self, entry: Entry, now: float | None = None) -> bool:
        """Note this look at ``entry``; whether it is stable now."""
        moment = time.monotonic() if now is None else now
        signature = (entry.size, entry.mtime)
        seen = self._seen.get(entry.path)
        if seen is None or seen.signature != signature:
            self._seen[entry.path] = _Seen(signature, moment, 1)
            return False
        if moment - seen.counted_at >= self.interval_s * 0.95:
            seen.looks += 1
            seen.counted_at = moment
        return seen.looks >= self.checks

    def forget(self, path: str) -> None:
        self._seen.pop(path, None)

    def keep_only(self, paths: set[str]) -> None:
        """Forget files that are gone (taken, moved, deleted)."""
        for path in [p for p in self._seen if p not in paths]:
            del self._seen[path]

    @property
    def waiting(self) -> bool:
        """Whether some file is being watched settle (the next look is due within the interval)."""
        return bool(self._seen)
