"""Group commit of done marks: many files marked ``done`` in one store transaction.

A file whose service succeeded is moved, deleted or kept at once, and
handed to the :class:`Finisher`; the channel goes on with the next file.
The finisher marks every file handed over since its last round ``done`` in
one transaction. A crash before that commit leaves a moved file with a
``taken`` row (it is not in the folder any more: never delivered again) or,
with ``keep``, a kept file that the next start delivers again, as a crash
during its service would. Until its mark is committed a file stays in
flight, so no poll looks at it meanwhile.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import structlog

from portway.declarations import IdempotentRepository
from portway.errors import describe
from portway.pickup.handling import Work

log = structlog.get_logger("portway.pickup")

MAX_GROUP = 256  # files marked done per transaction at most
RETRY_S = 1.0  # wait before committing again when the store failed
GROUP_WAIT_S = 0.002  # for files finishing right behind to join a commit; delays no delivery


class Finisher:
    """One thread per channel committing ``done`` marks in groups."""

    def __init__(
        self,
        channel: str,
        repository: IdempotentRepository,
        on_done: Callable[[int], None],
        finish: Callable[[list[Work]], None],
    ) -> None:
        self.channel = channel
        self.repository = repository
        self.on_done = on_done
        self.finish = finish  # told which files' marks are committed
        self._queue: queue.Queue[Work | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"pickup-done-{channel}", daemon=True)
        self._thread.start()

    def put(self, work: Work) -> None:
        """Mark ``work`` (its service succeeded, the file was moved, deleted or kept) done soon."""
        self._queue.put(work)

    def close(self, timeout_s: float) -> None:
        """Commit and finish what was handed over, then stop."""
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        closing = False
        while not closing:
            first = self._queue.get()
            group: list[Work] = []
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
                self.commit(group)

    def commit(self, group: list[Work], giving_up: Callable[[], bool] = lambda: False) -> None:
        """Mark ``group`` done in one transaction, retried while the store is away until ``giving_up``.

        Given up (the channel stops), moved files keep a ``taken`` row and are
        not delivered again; kept ones are, at the next start.
        """
        while True:
            try:
                self.repository.done_many([work.key for work in group])
                self.on_done(len(group))
                break
            except Exception as exc:  # the store is away: the files stay in flight, committed when it is back
                log.error("pickup_done_failed", channel=self.channel, files=len(group), error=describe(exc))
                if giving_up():
                    break
                threading.Event().wait(RETRY_S)
        self.finish(group)
