"""The pickup engine: poll a folder, take complete files once, hand each to a service.

One poller thread per channel lists the folder while the channel's cluster
lease is held, applies the filters and the read lock, claims each file in
the idempotent repository and gives it to a worker (``max_concurrent`` at
once, :mod:`portway.pickup.handling`). A woken channel (inotify on a local
folder) polls at once; a poll that fails (a folder gone, a server down) is
reported once per change of state and retried at the next interval.
"""

from __future__ import annotations

import posixpath
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import structlog

from portway.declarations import ChannelHost, PickupRecord
from portway.errors import describe
from portway.pickup.finishing import Finisher
from portway.pickup.handling import Handler, Work
from portway.pickup.names import TAKING_SUFFIX, printable, render
from portway.pickup.prefetch import prefetched
from portway.pickup.readlock import StableFiles
from portway.pickup.scanning import Found, key_of, scan
from portway.pickup.settings import PickupSettings
from portway.pickup.source import Source
from portway.pickup.status import PickupStatus

log = structlog.get_logger("portway.pickup")

LEASE_WAIT_S = 0.5  # how often a server without the lease looks whether it has it now
OWNER_RECHECK_S = 2.0  # a file another live server holds: look again this often
# Files claimed (and marked done) per store transaction: fewer commits, and no file claimed
# long before its turn.
CLAIM_BATCH = 64
# A group's done marks wait at most this long for its commit: a slow service's files do not stay
# "in flight" (and uncounted in status) until the whole group is through.
MARKS_WAIT_S = 0.5


class PickupChannel:
    """One running pickup channel (the :class:`~portway.declarations.Runner` its type's ``start`` returns)."""

    def __init__(
        self, name: str, settings: PickupSettings, host: ChannelHost, source: Source, *, lease_name: str
    ) -> None:
        self.name = name
        self.settings = settings
        self.source = source
        self.repository = host.idempotent_repository(name)
        self.report = PickupStatus()
        self.stable = StableFiles(settings.read_lock_checks, settings.read_lock_check_interval_s)
        self.handler = Handler(name, settings, host, source, self.repository, self.report)
        self.lease = host.lease(lease_name)
        self.finisher = Finisher(name, self.repository, lambda n: self.report.add("done", n), self._marked)
        self.in_flight: set[str] = set()
        # Files handled since a poll began listing: that poll's view of them is stale.
        self.finished: dict[str, float] = {}
        self.known_done: set[str] = set()  # keys done and kept: no store round trip for them each poll
        self._slots = threading.BoundedSemaphore(settings.max_concurrent)
        self._workers = ThreadPoolExecutor(settings.max_concurrent, thread_name_prefix=f"pickup-{name}")
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._next_retry: float | None = None
        self._landing = threading.Lock()  # ``finished`` is written by the finisher, pruned by polls
        self._listed_at = 0.0
        self.on_poll: Callable[[bool], None] | None = None  # told whether the folder could be listed
        self._thread = threading.Thread(target=self._run, name=f"pickup-{name}", daemon=True)

    def start(self) -> PickupChannel:
        self._thread.start()
        return self

    def poke(self) -> None:
        """Poll now (something changed in the folder)."""
        self._wake.set()

    def stop(self, drain_s: float) -> None:
        """Stop polling; return once the files in flight are handled (or ``drain_s`` is over)."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(drain_s + 5)
        deadline = time.monotonic() + drain_s
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.in_flight:
            # Left 'taken' in the repository: a restart delivers them again.
            log.warning("pickup_drain_timeout", channel=self.name, busy=len(self.in_flight), drain_s=drain_s)
        self._workers.shutdown(wait=not self.in_flight, cancel_futures=True)
        self.finisher.close(max(1.0, deadline - time.monotonic()))
        self.lease.release()

    def status(self) -> dict[str, object]:
        return self.describe_status()

    def describe_status(self) -> dict[str, object]:
        """Last poll, counters, whether this server holds the lease, the last errors."""
        return {
            **self.report.as_dict(),
            "folder": self.settings.folder,
            "lease": self.lease.name,
            "lease_held": self.lease.held(),
            "in_flight": len(self.in_flight),
            "repository": self.repository.counts(),
        }

    def _run(self) -> None:
        recovered = False
        while not self._stopping.is_set():
            delay = LEASE_WAIT_S
            if self.lease.held():
                if not recovered:
                    recovered = self._recover()
                try:
                    delay = self._poll()
                except Exception as exc:  # a last guard: the channel polls again, it never dies
                    self.report.error("poll", describe(exc))
                    log.error("pickup_poll_failed", channel=self.name, error=describe(exc))
                    delay = self.settings.poll_interval_s
            else:
                recovered = False
            self._wake.wait(delay)
            self._wake.clear()

    def _recover(self) -> bool:
        """Put back files a dead holder had renamed to their in-progress name (rename read lock)."""
        if self.settings.read_lock != "rename":
            return True
        try:
            for found in scan(self.source, self.settings, taking=True):
                original = found.entry.path[: -len(TAKING_SUFFIX)]
                relpath = found.relpath[: -len(TAKING_SUFFIX)]
                record = self.repository.look(key_of(Found(found.entry, relpath, found.siblings)))
                theirs = (
                    record is not None and record.state == "taken" and record.owner != self.repository.owner
                )
                if theirs and record is not None and self.repository.owner_alive(record.owner):
                    return False  # its server still handles it; look again at the next poll
                self.source.rename(found.entry.path, original)
                log.info("pickup_put_back", channel=self.name, file=printable(original))
        except Exception as exc:  # retried on the next poll, reported by it
            log.warning("pickup_recover_failed", channel=self.name, error=describe(exc))
            return False
        return True

    def _poll(self) -> float:
        settings = self.settings
        self.report.polled()
        self._listed_at = time.monotonic()
        with self._landing:
            self.finished = {p: t for p, t in self.finished.items() if t >= self._listed_at}
        try:
            listed = scan(self.source, self.settings)
        except Exception as exc:
            self._folder_failed(exc)
            return settings.poll_interval_s
        self._folder_ok()
        self.report.add("seen", len(listed))
        if self.stable.waiting:
            self.stable.keep_only({f.entry.path for f in listed})
        self._next_retry = None
        ready = [f for f in listed if self._ready(f)]
        ready.sort(key=(lambda f: f.relpath) if settings.sort_by == "name" else (lambda f: f.entry.mtime))
        started = 0
        ready = ready[: settings.max_files_per_poll]
        for first in range(0, len(ready), CLAIM_BATCH):
            if self._stopping.is_set() or not self.lease.held():
                break
            started += self._take(ready[first : first + CLAIM_BATCH])
        delay = settings.poll_interval_s
        if self.stable.waiting:
            delay = min(delay, settings.read_lock_check_interval_s)
        if self._next_retry is not None:
            delay = min(delay, max(0.05, self._next_retry - time.time()))
        if started and len(ready) >= settings.max_files_per_poll:  # more may wait: poll again at once
            delay = 0.0
        return delay

    def _ready(self, found: Found) -> bool:
        entry, settings = found.entry, self.settings
        if entry.path in self.in_flight or entry.path in self.finished:
            return False
        if self.known_done and key_of(found) in self.known_done:
            return False
        if settings.min_age_s and time.time() - entry.mtime < settings.min_age_s:
            return False
        if settings.read_lock == "changed":
            return self.stable.observe(entry)
        if settings.read_lock == "done_file":
            if found.entry.name in self._done_markers(found):
                return False
            return render(settings.done_file_name, entry.name) in found.siblings
        return True

    def _done_markers(self, found: Found) -> set[str]:
        return {render(self.settings.done_file_name, n) for n in found.siblings if n != found.entry.name}

    def _take(self, group: list[Found]) -> int:
        """Claim a group of files in the store and handle them (inline, or on the workers); how many.

        The group's contents are read ahead in one batch where the source can
        (SFTP: two round trips for the group, not two per file). Claims not
        started (the channel stopped, the lease was lost) are given back.
        """
        try:
            keyed = self._keyed(group)
            # Files never seen (the usual case) are taken by one insert; the others by their rows.
            won = self.repository.take_new([key for _, key, _ in keyed])
            rest = [(found, key, content) for found, key, content in keyed if key not in won]
            records = self.repository.look_many([key for _, key, _ in rest]) if rest else {}
            wanted = [
                (found, key, content, action)
                for found, key, content in rest
                if (action := self._decide(found, key, records.get(key))) is not None
            ]
            won |= self.repository.take_many([(key, records.get(key)) for _, key, _, _ in wanted])
        except Exception as exc:  # the store or the folder failed: try again at the next poll
            self.report.error("take", describe(exc))
            log.warning("pickup_take_failed", channel=self.name, files=len(group), error=describe(exc))
            return 0
        actions = {key: action for _, key, _, action in wanted}
        works = [
            Work(found.entry, found.relpath, key, actions.get(key, "run"), content, self._marker(found))
            for found, key, content in keyed
            if key in won
        ]
        works = prefetched(self.source, works, self.settings)
        run = self._run_inline if self.settings.max_concurrent == 1 else self._submit
        started = run(works)
        self.report.add("taken", started)
        if started < len(works):
            self._give_back([(w.key, records.get(w.key)) for w in works[started:]])
        return started

    def _go_on(self) -> bool:
        """Whether to start the next claimed file: not when stopping or no longer the lease holder."""
        return not self._stopping.is_set() and self.lease.held()

    def _give_back(self, rows: list[tuple[str, PickupRecord | None]]) -> None:
        try:
            self.repository.release(rows)
        except Exception as exc:  # left 'taken' by us: retaken by our next poll, or after our end
            log.warning("pickup_release_failed", channel=self.name, files=len(rows), error=describe(exc))

    def _keyed(self, group: list[Found]) -> list[tuple[Found, str, bytes | None]]:
        keyed: list[tuple[Found, str, bytes | None]] = []
        keys: set[str] = set()
        for found in group:
            content = None
            if self.settings.idempotent_key == "content_hash":
                content = self.source.read(found.entry.path)
                if len(content) != found.entry.size:  # still being written after all
                    self.stable.forget(found.entry.path)
                    continue
            key = key_of(found, content)
            if key not in keys:  # two files of one content (content_hash): the first one only
                keys.add(key)
                keyed.append((found, key, content))
        return keyed

    def _submit(self, works: list[Work]) -> int:
        """Hand each file to a worker as a slot frees (``max_concurrent`` above 1); how many."""
        started = 0
        for work in works:
            self._slots.acquire()
            if not self._go_on():
                self._slots.release()
                break
            self.in_flight.add(work.entry.path)
            self._workers.submit(self._work, work)
            started += 1
        return started

    def _run_inline(self, works: list[Work]) -> int:
        """Run a group's services one after another on the poller thread (``max_concurrent`` 1).

        A worker thread gains nothing for one file at a time, and the hand-off
        cost more than the service call. Each file is moved (or deleted) right
        after its service, so its done mark can wait for the group's commit: a
        crash before it leaves the file moved away, never delivered again. A
        kept file stays in place: its mark goes to the finisher at once.
        """
        marks: list[Work] = []
        started = 0
        since = 0.0
        for work in works:
            if not self._go_on():
                break
            self.in_flight.add(work.entry.path)
            started += 1
            finished = self._handle(work)
            if finished is None:
                self._landed(work)
            elif self.settings.keep:
                self.finisher.put(finished)
            else:
                if not marks:
                    since = time.monotonic()
                marks.append(finished)
                if time.monotonic() - since >= MARKS_WAIT_S:
                    self.finisher.commit(marks, self._stopping.is_set)
                    marks = []
        if marks:
            self.finisher.commit(marks, self._stopping.is_set)
        return started

    def _handle(self, work: Work) -> Work | None:
        try:
            return self.handler.handle(work)
        except Exception as exc:  # the handler reports its own failures; this is a last guard
            log.error(
                "pickup_worker_failed", channel=self.name, file=printable(work.relpath), error=describe(exc)
            )
            return None

    def _decide(self, found: Found, key: str, record: PickupRecord | None) -> str | None:
        """What to do with a file, given its row: 'run', 'finish' (done, still here), 'fail', or None."""
        if record is None:
            return "run"
        if record.state == "done":
            if self.settings.keep:
                self.known_done.add(key)
                return None
            return "finish"
        if record.state == "taken":
            # Ours from a worker that lost it, or a dead server's (killed mid-service): deliver
            # again. A live server's (one that lost the lease meanwhile) is left to it.
            if record.owner != self.repository.owner and self.repository.owner_alive(record.owner):
                retry = time.time() + OWNER_RECHECK_S
                self._next_retry = min(retry, self._next_retry or retry)
                return None
            return "run"
        if record.attempts >= self.settings.max_attempts:
            return "fail" if self.settings.move_failed_to else None
        due = record.updated_at + self.settings.retry_backoff_s * 2 ** (record.attempts - 1)
        if time.time() < due:
            self._next_retry = min(due, self._next_retry or due)
            return None
        self.report.add("retried")
        return "run"

    def _marker(self, found: Found) -> str | None:
        if self.settings.read_lock != "done_file":
            return None
        folder = posixpath.dirname(found.relpath)
        base = self.source.join(self.settings.folder, folder) if folder else self.settings.folder
        return self.source.join(base, render(self.settings.done_file_name, found.entry.name))

    def _work(self, work: Work) -> None:
        finished = None
        try:
            finished = self._handle(work)
        finally:
            self._slots.release()  # the next file may start; this one stays in flight until moved
            if finished is None:
                self._landed(work)
            else:
                self.finisher.put(finished)

    def _marked(self, group: list[Work]) -> None:
        """Files whose done marks are committed: no longer in flight."""
        if self.settings.keep:
            self.known_done.update(work.key for work in group)
        self._landed(*group)

    def _landed(self, *works: Work) -> None:
        now = time.monotonic()
        with self._landing:
            for work in works:
                self.finished[work.entry.path] = now
        for work in works:
            self.in_flight.discard(work.entry.path)

    def _folder_failed(self, exc: BaseException) -> None:
        message = describe(exc)
        if self.report.folder_error != message:
            self.report.folder_error = message
            self.report.error("folder", message)
            log.error("pickup_folder_failed", channel=self.name, folder=self.settings.folder, error=message)
        if self.on_poll is not None:
            self.on_poll(False)

    def _folder_ok(self) -> None:
        if self.report.folder_error is not None:
            self.report.folder_error = None
            log.info("pickup_folder_back", channel=self.name, folder=self.settings.folder)
        if self.on_poll is not None:
            self.on_poll(True)
