"""Run service-file imports on a worker thread, each one within a time limit.

A service file's top level is arbitrary user code: a ``while True:`` at
import time must not hang the watcher or the boot. Python cannot kill a
thread, so the import runs on a daemon worker thread while the deploying
thread waits with a deadline per file. When a file overruns:

* the file is reported as failed (``TimedOut``) and the remaining files go
  to a fresh worker thread. The waiting thread looks at the batch's progress
  eight times per time limit, so a file is cut off after running at least
  ``timeout_s`` and at most an eighth more;
* the stuck thread is abandoned and asked to stop with an asynchronous
  exception (``ImportTimeout``, raised in it the next time it runs Python
  bytecode). A pure-Python loop stops at once; code blocked inside a C call
  (``time.sleep(1e9)``, a socket read without timeout) keeps its thread
  until the call returns. :attr:`ImportWorker.abandoned` counts threads
  that were abandoned and have not ended, for ``portway deploy status``.
"""

from __future__ import annotations

import ctypes
import operator
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ImportTimeout(BaseException):
    """Raised inside an abandoned import thread; BaseException so user ``except Exception`` won't eat it."""


@dataclass(frozen=True)
class TimedOut:
    """The job did not finish within the limit."""

    seconds: float


# Where a batch without a trail writes the index of its running job (nobody reads it).
_NO_TRAIL = memoryview(bytearray(4)).cast("i")
# The waiter looks at the batch's progress this often, as a share of the time limit: a job is
# cut off after running at least the limit and at most this share more.
_LOOKS_PER_LIMIT = 8


class _Batch(Generic[T]):
    """Jobs for one thread. The thread appends results and reads ``stop``; nothing else is shared.

    No lock per job (one costs more than the rest of a job's bookkeeping): the waiter
    judges an overrun by the result count standing still, and a batch it gives up on is
    never read again; the jobs left go to a new batch with a copy of the results so far.
    """

    def __init__(
        self,
        fn: Callable[[Any], T],
        items: Sequence[Any],
        progress: memoryview | None,
        results: list[T | TimedOut] | None = None,
    ) -> None:
        self.fn = fn
        self.items = items
        self.progress = _NO_TRAIL if progress is None else progress
        self.results: list[T | TimedOut] = results if results is not None else []
        self.done = threading.Event()
        self.stop = False  # set by the waiter once it gave up on this batch


class _Thread(threading.Thread):
    def __init__(self, owner: ImportWorker) -> None:
        super().__init__(name="portway-hotdeploy-import", daemon=True)
        self.owner = owner
        self.inbox: queue.SimpleQueue[_Batch[object] | None] = queue.SimpleQueue()

    def run(self) -> None:
        try:
            while True:
                batch = self.inbox.get()
                if batch is None:
                    return
                if not self._run(batch):
                    return
                # Dropped now, not at the next batch: its results hold the classes and
                # errors of the files it ran, which must be free to go once replaced.
                del batch
        except ImportTimeout:
            return
        finally:
            self.owner._ended(self)

    def _run(self, batch: _Batch[object]) -> bool:
        """Run the batch's jobs from where it stands; False when this thread was given up on."""
        fn, items, progress = batch.fn, batch.items, batch.progress
        append = batch.results.append
        index, count = len(batch.results), len(items)
        while index < count:
            if batch.stop:
                return False
            progress[0] = index  # the trail: which file a crash of the whole process was in
            append(fn(items[index]))
            index += 1
        if batch.stop:
            return False
        batch.done.set()
        return True


class ImportWorker:
    """Runs jobs (callables that never raise) in order on one worker thread, each within ``timeout_s``."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._thread: _Thread | None = None
        self._stuck: set[_Thread] = set()
        self._lock = threading.Lock()

    @property
    def abandoned(self) -> int:
        """Threads given up on after a timeout that are still running."""
        with self._lock:
            return len(self._stuck)

    def run(self, jobs: Sequence[Callable[[], T]], progress: memoryview | None = None) -> list[T | TimedOut]:
        """Run ``jobs`` in order; a job that overruns yields :class:`TimedOut`. Not reentrant.

        ``progress``: a one-int cell that gets each job's index before the job runs.
        """
        return self.map(operator.call, jobs, progress)

    def map(
        self, fn: Callable[[Any], T], items: Sequence[Any], progress: memoryview | None = None
    ) -> list[T | TimedOut]:
        """``fn(item)`` for each item in order, as :meth:`run` runs jobs (with no job object per item)."""
        if not items:
            return []
        batch: _Batch[T] = _Batch(fn, items, progress)
        while True:
            thread = self._current()
            thread.inbox.put(batch)  # type: ignore[arg-type]
            overran = self._wait(batch)
            if overran is None:
                return batch.results
            # Job `overran` ran past the limit: count it failed, go on with a new thread.
            batch.stop = True
            self._abandon(thread)
            results = [*batch.results[:overran], TimedOut(self.timeout_s)]
            if len(results) >= len(items):
                return results
            batch = _Batch(fn, items, progress, results)

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.inbox.put(None)

    def _wait(self, batch: _Batch[T]) -> int | None:
        """Wait for the batch; None when it is done, else the index of the job that overran."""
        look = self.timeout_s / _LOOKS_PER_LIMIT
        seen, since = len(batch.results), time.monotonic()
        while not batch.done.wait(look):
            now, finished = time.monotonic(), len(batch.results)
            if finished != seen:  # a job ended since the last look: the next one runs from about now
                seen, since = finished, now
            elif now - since >= self.timeout_s:
                return None if batch.done.is_set() else seen
        return None

    def _current(self) -> _Thread:
        with self._lock:
            if self._thread is None:
                self._thread = _Thread(self)
                self._thread.start()
            return self._thread

    def _abandon(self, thread: _Thread) -> None:
        with self._lock:
            if self._thread is thread:
                self._thread = None
            self._stuck.add(thread)
        ident = thread.ident
        if ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(ImportTimeout))

    def _ended(self, thread: _Thread) -> None:
        with self._lock:
            self._stuck.discard(thread)
            if self._thread is thread:
                self._thread = None
