"""One taken file: read it (or hand over a path), run the service, then move, delete or keep it.

The file is moved (deleted, kept) right after its service succeeded, and its
repository row goes ``done`` in a group commit after that: a crash between
the two leaves the file moved away with a ``taken`` row, never delivered
again. A ``done`` file still in place (its move failed) is moved by the
next poll without being delivered again, and marked done once more.
"""

from __future__ import annotations

import posixpath
import time
from datetime import datetime
from typing import Any, NamedTuple

import structlog

from portway.declarations import ChannelHost, Delivery, IdempotentRepository
from portway.errors import NotFoundError, describe
from portway.files import AlreadyExists, NotFound
from portway.pickup.names import TAKING_SUFFIX, printable, render
from portway.pickup.settings import PickupSettings
from portway.pickup.source import Entry, Source
from portway.pickup.status import PickupStatus

log = structlog.get_logger("portway.pickup")

SETTLE_MAX_S = 3600.0  # rename lock: longest wait for a renamed file's writer to finish


class Work(NamedTuple):
    """A claimed file and what to do with it: 'run' the service, 'finish' a done file, 'fail' it.

    Named tuples here, as :class:`~portway.pickup.source.Entry`: one of each per file.
    """

    entry: Entry
    relpath: str
    key: str
    action: str
    content: bytes | None
    marker: str | None  # its done file (done_file read lock)


class NoService(Exception):
    """The channel's service is not deployed (nothing ran)."""


class Changed(Exception):
    """The file changed after it was listed: it was still being written."""


class Handler:
    """Handles taken files for one channel; called from its worker threads."""

    def __init__(
        self,
        channel: str,
        settings: PickupSettings,
        host: ChannelHost,
        source: Source,
        repository: IdempotentRepository,
        status: PickupStatus,
    ) -> None:
        self.channel = channel
        self.settings = settings
        self.host = host
        self.source = source
        self.repository = repository
        self.status = status
        self.service_missing = False  # reported once until a delivery works again
        self._made: set[str] = set()  # target folders made already (a deleted one: the rename fails once)
        self._fixed: dict[tuple[str, str], str] = {}  # (folder, pattern) -> its target folder + "/", made

    def handle(self, work: Work) -> Work | None:
        """Run ``work``; when its service succeeded, move, delete or keep it and return it, to mark done."""
        if work.action == "finish":  # done before, not moved: move it, and it is done again
            self._after_success(work, work.entry.path)
            return work
        if work.action == "fail":
            self._after_failure(work, work.entry.path)
            return None
        path = work.entry.path
        try:
            if self.settings.read_lock == "rename":
                path = work.entry.path + TAKING_SUFFIX
                self.source.rename(work.entry.path, path)
                work = work._replace(entry=self._settle(work.entry, path))
            self._deliver(work, path)
        except (Changed, FileNotFoundError, NotFound) as exc:
            # Not the service's failure: the file is gone or still growing; a later poll sees it anew.
            self.repository.forget(work.key)
            self._put_back(work, path)
            log.info(
                "pickup_skipped", channel=self.channel, file=printable(work.relpath), reason=describe(exc)
            )
            return None
        except NoService as exc:
            # Nothing ran: the file stays for when the service is deployed, no attempt counted.
            self.repository.forget(work.key)
            self._put_back(work, path)
            if not self.service_missing:
                self.service_missing = True
                self.status.error("service", str(exc))
                log.error("pickup_service_missing", channel=self.channel, error=str(exc))
            return None
        except Exception as exc:
            self._failed(work, path, exc)
            return None
        if self.service_missing:
            self.service_missing = False
            log.info("pickup_service_back", channel=self.channel, service=self.settings.service)
        # Moved (or deleted, kept) at once, its done mark follows in a group commit: a crash in
        # between leaves it moved away with a 'taken' row, never delivered again.
        self._after_success(work, path)
        return work

    def _dispatch(self, delivery: Delivery) -> None:
        try:
            self.host.dispatch(delivery)
        except NotFoundError as exc:  # raised before the service ran; its own errors come as ServiceFailed
            raise NoService(str(exc)) from None

    def _deliver(self, work: Work, path: str) -> None:
        entry = work.entry
        meta: dict[str, Any] = {
            "name": entry.name,
            "path": entry.path,
            "relpath": work.relpath,
            "size": entry.size,
            "mtime": entry.mtime,
            "folder": self.settings.folder,
            "connection": self.source.connection,
        }
        if entry.size > self.settings.stream_above_bytes:
            with self.source.local_copy(path) as local:
                if local.stat().st_size != entry.size:
                    raise Changed(
                        f"{printable(entry.name)} is {local.stat().st_size} bytes, listed {entry.size}"
                    )
                self._dispatch(Delivery(self.settings.service, local, self.channel, meta=meta))
            return
        content = work.content if work.content is not None else self.source.read(path)
        if len(content) != entry.size:
            raise Changed(f"{printable(entry.name)} is {len(content)} bytes, listed {entry.size}")
        self._dispatch(Delivery(self.settings.service, content, self.channel, meta=meta))

    def _settle(self, entry: Entry, taking: str) -> Entry:
        """Wait until no writer still appends to the renamed file; the entry as it is then."""
        interval = self.settings.read_lock_check_interval_s
        last = (entry.size, entry.mtime)
        deadline = time.monotonic() + SETTLE_MAX_S
        while time.monotonic() < deadline:
            time.sleep(interval)
            now = self.source.stat(taking)
            if now is None:
                raise NotFound(taking, "gone while being taken")
            if (now.size, now.mtime) == last:
                return entry._replace(size=now.size, mtime=now.mtime)
            last = (now.size, now.mtime)
        raise Changed(f"{printable(entry.name)} kept changing for {SETTLE_MAX_S:g} s")

    def _failed(self, work: Work, path: str, exc: BaseException) -> None:
        message = describe(exc)
        self.status.error(printable(work.relpath), message)
        try:
            self.repository.failed(work.key, message)
            record = self.repository.look(work.key)
        except Exception as store_exc:  # the row stays 'taken': retaken by the next start
            log.error("pickup_store_failed", channel=self.channel, error=describe(store_exc))
            return
        attempts = record.attempts if record else self.settings.max_attempts
        final = attempts >= self.settings.max_attempts
        log.error(
            "pickup_service_failed",
            channel=self.channel,
            file=printable(work.relpath),
            attempt=attempts,
            max_attempts=self.settings.max_attempts,
            error=message,
        )
        if final:
            self._after_failure(work, path)
        else:
            self._put_back(work, path)

    def _after_success(self, work: Work, path: str) -> None:
        settings = self.settings
        try:
            if settings.keep:
                self._put_back(work, path)
            elif settings.delete:
                self.source.delete(path)
            else:
                self._move(path, work.entry.name, settings.move_to)
        except Exception as exc:  # done, not moved: the next poll finishes it without delivering it again
            self._finish_failed(work, exc)
            return
        self._drop_marker_of(work)

    def _finish_failed(self, work: Work, exc: BaseException) -> None:
        self.status.error(printable(work.relpath), describe(exc))
        log.error(
            "pickup_finish_failed", channel=self.channel, file=printable(work.relpath), error=describe(exc)
        )

    def _drop_marker_of(self, work: Work) -> None:
        if work.marker is None:
            return
        try:
            self._drop_marker(work.marker)
        except Exception as exc:
            self._finish_failed(work, exc)

    def _after_failure(self, work: Work, path: str) -> None:
        self.status.add("failed")
        target = self.settings.move_failed_to
        try:
            if target is None:
                self._put_back(work, path)
                return
            self._move(path, work.entry.name, target)
            if work.marker is not None:
                self._drop_marker(work.marker)
            # Moved aside: put back by a user, it is taken as a new file.
            self.repository.forget(work.key)
        except Exception as exc:
            self.status.error(printable(work.relpath), describe(exc))
            log.error(
                "pickup_move_failed", channel=self.channel, file=printable(work.relpath), error=describe(exc)
            )
            if work.action == "fail":  # retaken to be moved aside: failed again, not a file to run
                self._restore_failed(work, describe(exc))

    def _restore_failed(self, work: Work, message: str) -> None:
        try:
            self.repository.failed(work.key, message)
        except Exception as exc:  # left 'taken': the next start runs it once more
            log.error("pickup_store_failed", channel=self.channel, error=describe(exc))

    def _target(self, path: str, name: str, pattern: str | None = None) -> str:
        """Where ``path`` moves to (``move_to`` unless ``pattern``), its folder made once."""
        pattern = pattern or self.settings.move_to
        cut = path.rfind("/")  # posixpath.dirname, without its call: this runs for every file
        base = "" if cut < 0 else (path[:cut].rstrip("/") or "/")
        fixed = self._fixed.get((base, pattern))
        if fixed is not None:  # the usual ".done/{name}": the same folder for every file
            return fixed + name
        target = self.source.join(base, render(pattern, name, datetime.now()))
        folder = posixpath.dirname(target)
        if folder not in self._made:
            self.source.make_folders(folder)
            self._made.add(folder)
        head = pattern[: -len("/{name}")]
        if (
            pattern.endswith("/{name}")
            and "{" not in head
            and "}" not in head
            and target.endswith("/" + name)
        ):
            self._fixed[(base, pattern)] = target[: len(target) - len(name)]  # the folder and its "/"
        return target

    def _move(self, path: str, name: str, pattern: str) -> None:
        target = self._target(path, name, pattern)
        try:
            self.source.rename(path, target)
        except (FileExistsError, AlreadyExists):  # a file of that name was moved there before
            self.source.rename(path, f"{target}.{time.time_ns()}")
        except (FileNotFoundError, NotFound):
            if self.source.stat(path) is None:
                raise
            folder = posixpath.dirname(target)
            self._made.discard(folder)  # the target folder was removed meanwhile: make it again
            self._fixed.clear()
            self.source.make_folders(folder)
            self.source.rename(path, target)

    def _put_back(self, work: Work, path: str) -> None:
        if path != work.entry.path:
            self.source.rename(path, work.entry.path)

    def _drop_marker(self, marker: str) -> None:
        try:
            self.source.delete(marker)
        except (FileNotFoundError, NotFound):
            return
