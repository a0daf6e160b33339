"""Watch the pickup folders (inotify through watchdog) and hand batches of changed paths on.

Every event only marks its path dirty with a deadline a few milliseconds
ahead (per-path debounce: an editor's create/write/close/rename burst is
one deploy). One thread deploys whatever is due, as one batch. A path that
is gone when due gets a short grace period first, because editors that
save by "rename old away, write new" leave a moment with no file at all;
it is undeployed only if it is still gone after that.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler

from portway.hotdeploy.listing import is_service_path

log = structlog.get_logger("portway.hotdeploy")

# watchdog warns when a folder created or moved in is registered twice by its recursive walk;
# the watch is simply replaced, nothing is lost, and the notice would only alarm users.
warnings.filterwarnings(
    "ignore", message="Callback with id .* already exists", category=RuntimeWarning, module="watchdog"
)

DELETE_GRACE_S = 0.05
# A file written but not closed yet is deployed at its close (inotify IN_CLOSE_WRITE), or
# after this long when no close comes (a writer that keeps it open, a chmod or touch).
OPEN_WRITE_CAP_S = 1.0
IDLE_S = 1.0
# Events that never change a file's content.
_IGNORED_EVENTS = frozenset({"opened", "closed_no_write"})


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED_EVENTS:
            return
        if event.is_directory:
            if event.event_type == "modified":
                return  # a folder's mtime moved: its entries get their own events
            self.watcher.mark(_text(event.src_path))
            if event.dest_path:
                self.watcher.mark(_text(event.dest_path))
            return
        # created/modified: being written, wait for the close; closed, moved, deleted: settled.
        writing = event.event_type in ("created", "modified")
        for raw in (event.src_path, event.dest_path):
            path = _text(raw)
            if path and is_service_path(path) and not _hidden_below(path, self.watcher.dirs):
                if writing and event.event_type == "created" and os.path.islink(path):
                    writing = False  # a new symlink is complete at once: no close will come
                self.watcher.mark(path, writing=writing)


def _text(path: str | bytes) -> str:
    return os.fsdecode(path) if path else ""


def _hidden_below(path: str, dirs: list[str]) -> bool:
    """Whether a folder between the pickup folder and the file is hidden (.git, .venv, ...)."""
    for root in dirs:
        if path.startswith(root + os.sep):
            parts = path[len(root) + 1 :].split(os.sep)[:-1]
            return any(p.startswith(".") or p == "__pycache__" for p in parts)
    return False


class Watcher:
    """inotify on each pickup folder (recursive) feeding debounced batches to ``deploy``.

    ``deploy(paths)`` returns whether it left work for an idle moment (a bytecode cache to
    write): ``when_idle()`` is then called once no event came for ``IDLE_S``.
    """

    def __init__(
        self,
        dirs: list[Path],
        *,
        deploy: Callable[[list[str]], bool],
        when_idle: Callable[[], object],
        debounce_s: float = 0.005,
    ) -> None:
        self._deploy = deploy
        self._when_idle = when_idle
        self.dirs = [str(d) for d in dirs]
        self.debounce_s = debounce_s
        self._due: dict[str, float] = {}
        self._graced: set[str] = set()
        self._writing: dict[str, float] = {}  # path -> when it was first seen written, not yet closed
        self._cond = threading.Condition()
        self._stopping = False
        self._observer: object | None = None
        self._thread = threading.Thread(target=self._loop, name="portway-hotdeploy-watch", daemon=True)

    def start(self) -> None:
        # The platform's native observer: inotify on Linux (FSEvents on macOS).
        from watchdog.observers import Observer

        observer = Observer()
        handler = _Handler(self)
        for folder in self.dirs:
            observer.schedule(handler, folder, recursive=True)
        observer.start()
        self._observer = observer
        self._thread.start()
        log.info("watching", dirs=self.dirs)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        observer = self._observer
        if observer is not None:
            observer.stop()  # type: ignore[attr-defined]
            observer.join(5)  # type: ignore[attr-defined]
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(30)

    def mark(self, path: str, delay: float | None = None, *, writing: bool | None = None) -> None:
        """Deploy ``path`` once no event touched it for ``delay`` (default: the debounce).

        ``writing=True`` says the file is open for writing (deploy waits for its close),
        ``False`` that it was closed, moved or deleted; ``None`` leaves that as it was.
        """
        now = time.monotonic()
        deadline = now + (self.debounce_s if delay is None else delay)
        with self._cond:
            if writing:
                self._writing.setdefault(path, now)
            elif writing is False:
                self._writing.pop(path, None)
            self._due[path] = deadline
            self._cond.notify()

    def _loop(self) -> None:
        dirty_since: float | None = None
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    ready = [p for p, t in self._due.items() if t <= now]
                    if ready:
                        break
                    if self._due:
                        self._cond.wait(min(self._due.values()) - now)
                    elif dirty_since is not None:
                        if not self._cond.wait(IDLE_S):
                            break  # idle: time for the work the batches left
                    else:
                        self._cond.wait()
                if self._stopping:
                    return
                for p in list(ready):
                    since = self._writing.get(p)
                    if since is not None and now < since + OPEN_WRITE_CAP_S:
                        self._due[p] = since + OPEN_WRITE_CAP_S  # its close event comes first
                        ready.remove(p)
                        continue
                    self._writing.pop(p, None)
                    del self._due[p]
                if not ready and self._due:
                    continue
            if not ready:
                self._when_idle()
                dirty_since = None
                continue
            batch = self._settle(ready)
            if not batch:
                continue
            try:
                left_work = self._deploy(batch)
            except Exception:  # keep watching whatever a batch did
                log.exception("deploy_batch_crashed", paths=batch)
                continue
            if left_work:
                dirty_since = time.monotonic()

    def _settle(self, ready: list[str]) -> list[str]:
        """Paths to deploy now; a vanished file waits one grace period before it is undeployed."""
        batch = []
        for path in ready:
            if os.path.lexists(path) or path in self._graced:
                self._graced.discard(path)
                batch.append(path)
            else:
                self._graced.add(path)
                self.mark(path, DELETE_GRACE_S)
        return batch
