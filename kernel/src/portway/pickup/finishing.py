"""Group commit of finished files: mark many ``done`` in one store transaction, then move them.

A worker hands a file whose service succeeded to the :class:`Finisher` and
takes the next file at once. The finisher marks every file handed over
since its last round ``done`` in one transaction and only then moves,
deletes or keeps them, so "done in the store before moved" holds for each
file. A crash before the commit redelivers those files (their services
ran, their rows still say ``taken``), as a crash during a service would.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from portway.declarations import IdempotentRepository
from portway.errors import describe

log = structlog.get_logger("portway.pickup")

MAX_GROUP = 256  # files marked done per transaction at most
RETRY_S = 1.0
GROUP_WAIT_S = 0.002  # delays a move, never a delivery  # wait before committing again when the store failed


@dataclass(frozen=True)
class Finished:
    key: str
    then: Callable[[], None]  # move, delete or keep the file; reports its own errors
    after: Callable[[], None]  # always last: the file is no longer in flight


class Finisher:
    """One thread per channel committing ``done`` marks in groups."""

    def __init__(
        self, channel: str, repository: IdempotentRepository, on_done: Callable[[int], None]
    ) -> None:
        self.channel = channel
        self.repository = repository
        self.on_done = on_done
        self._queue: queue.Queue[Finished | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"pickup-done-{channel}", daemon=True)
        self._thread.start()

    def put(self, finished: Finished) -> None:
        self._queue.put(finished)

    def close(self, timeout_s: float) -> None:
        """Commit and finish what was handed over, then stop."""
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        closing = False
        while not closing:
            first = self._queue.get()
            group: list[Finished] = []
            if first is None:
                closing = True
            else:
                group.append(first)
            waited = False
            while len(group) < MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    if waited or closing:
                        break
                    # A moment for the files finishing right behind this one to join its commit.
                    waited = True
                    threading.Event().wait(GROUP_WAIT_S)
                    continue
                if more is None:
                    closing = True
                    break
                group.append(more)
            if group:
                self._commit(group)

    def _commit(self, group: list[Finished]) -> None:
        while True:
            try:
                self.repository.done_many([f.key for f in group])
                break
            except Exception as exc:  # the store is away: the files stay in flight, committed when it is back
                log.error("pickup_done_failed", channel=self.channel, files=len(group), error=describe(exc))
                threading.Event().wait(RETRY_S)
        self.on_done(len(group))
        for finished in group:
            try:
                finished.then()
            finally:
                finished.after()
