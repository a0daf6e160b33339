"""What a pickup channel reports: its last poll, its counters, the lease, its last errors."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any


class PickupStatus:
    """Counters and recent errors of one channel, safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last_poll: float | None = None
        self.counts = {"seen": 0, "taken": 0, "done": 0, "failed": 0, "retried": 0}
        self.errors: deque[dict[str, Any]] = deque(maxlen=10)
        self.folder_error: str | None = None

    def add(self, counter: str, n: int = 1) -> None:
        with self._lock:
            self.counts[counter] += n

    def error(self, what: str, message: str) -> None:
        with self._lock:
            self.errors.append({"at": time.time(), "what": what, "error": message})

    def polled(self) -> None:
        self.last_poll = time.time()

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "last_poll": self.last_poll,
                **self.counts,
                "folder_error": self.folder_error,
                "last_errors": list(self.errors),
            }
