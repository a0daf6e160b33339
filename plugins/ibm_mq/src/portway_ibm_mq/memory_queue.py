"""A local queue of the in-memory queue manager: its attributes and its messages.

Messages are kept in delivery order (priority, then first in first out) in a
heap; a message's position is ``(-priority, sequence)``, which is also what
a browse cursor remembers. Not thread-safe on its own: the queue manager's
lock guards every call.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from portway_ibm_mq.message import MQMD, PERSISTENT, Message

Position = tuple[int, int]


@dataclass
class StoredMessage:
    """A message on a queue, with what the queue manager keeps about it."""

    seq: int
    body: bytes
    md: MQMD
    properties: dict[str, Any]
    expires_at: float | None
    backout_count: int = 0

    def position(self) -> Position:
        return (-self.md.priority, self.seq)

    def matches(self, msg_id: bytes | None, correl_id: bytes | None) -> bool:
        return (msg_id is None or self.md.msg_id == msg_id) and (
            correl_id is None or self.md.correl_id == correl_id
        )

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def as_message(self, now: float) -> Message:
        md = self.md.with_(backout_count=self.backout_count)
        if self.expires_at is not None:
            md = md.with_(expiry=max(1, int((self.expires_at - now) * 10)))
        return Message(self.body, md, dict(self.properties))


@dataclass
class Queue:
    """A local queue: its attributes and, inside, its messages."""

    name: str
    backout_threshold: int = 0
    backout_queue: str = ""
    max_depth: int = 5000
    default_persistence: bool = False
    default_priority: int = 0
    _heap: list[tuple[int, int, StoredMessage]] = field(default_factory=list, repr=False)
    locked: int = field(default=0, repr=False)  # got under syncpoint, not yet committed
    pending: int = field(default=0, repr=False)  # put under syncpoint, not yet committed
    committed_gets: list[bytes] = field(default_factory=list, repr=False)

    @property
    def depth(self) -> int:
        """CURDEPTH: visible messages plus those held in units of work."""
        return len(self._heap) + self.locked + self.pending

    def push(self, stored: StoredMessage) -> None:
        heapq.heappush(self._heap, (*stored.position(), stored))

    def first(self, msg_id: bytes | None, correl_id: bytes | None, now: float) -> StoredMessage | None:
        """The first visible message matching the ids (``None``: any), left in place."""
        if msg_id is None and correl_id is None:
            while self._heap and self._heap[0][2].expired(now):
                heapq.heappop(self._heap)  # MQ discards expired messages it comes across
            return self._heap[0][2] if self._heap else None
        best: StoredMessage | None = None
        for _p, _s, stored in self._heap:
            if stored.expired(now) or not stored.matches(msg_id, correl_id):
                continue
            if best is None or stored.position() < best.position():
                best = stored
        return best

    def remove(self, stored: StoredMessage) -> None:
        """Take a message :meth:`first` found off the queue."""
        if self._heap[0][2] is stored:
            heapq.heappop(self._heap)
            return
        index = next(i for i, entry in enumerate(self._heap) if entry[2] is stored)
        self._heap[index] = self._heap[-1]
        self._heap.pop()
        heapq.heapify(self._heap)

    def after(self, position: Position | None, now: float) -> StoredMessage | None:
        """The first visible message past ``position`` in delivery order (a browse step)."""
        best: StoredMessage | None = None
        for _p, _s, stored in self._heap:
            if stored.expired(now) or (position is not None and stored.position() <= position):
                continue
            if best is None or stored.position() < best.position():
                best = stored
        return best

    def visible(self, now: float) -> list[StoredMessage]:
        """The messages others can get, in delivery order."""
        return [s for _p, _q, s in sorted(self._heap) if not s.expired(now)]

    def keep_persistent(self) -> None:
        """A restart: non-persistent messages are gone."""
        kept = [entry for entry in self._heap if entry[2].md.persistence == PERSISTENT]
        heapq.heapify(kept)
        self._heap = kept
