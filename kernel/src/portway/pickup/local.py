"""The ``file`` channel type: a local folder, woken by inotify (watchdog), polled as a safety net."""

from __future__ import annotations

import os
import threading
from typing import Any

import structlog

from portway.declarations import ChannelHost
from portway.errors import describe
from portway.pickup.engine import PickupChannel
from portway.pickup.names import is_temporary
from portway.pickup.settings import FileChannelSettings
from portway.pickup.source import LocalSource

log = structlog.get_logger("portway.pickup")

# Events that cannot make a file ready: reads, a file closed without a write, a deletion
# (the channel's own moves are a link and an unlink: their events must not trigger polls).
_IGNORED = frozenset({"opened", "closed_no_write", "deleted", "modified"})


class FolderWatch:
    """watchdog on the channel's folder, (re)started whenever a poll found the folder readable."""

    def __init__(self, channel: PickupChannel, recursive: bool) -> None:
        self.channel = channel
        self.recursive = recursive
        self._observer: Any = None
        self._lock = threading.Lock()
        self._closed = False  # the channel stops: a poll still under way must not start a new watch

    def __call__(self, readable: bool) -> None:
        with self._lock:
            if self._closed:
                return
            if readable and self._observer is None:
                self._start()
            elif not readable and self._observer is not None:
                self._stop()  # the folder went away: its watch is dead; a new one when it is back

    def _start(self) -> None:
        from watchdog.events import (
            DirCreatedEvent,
            FileClosedEvent,
            FileCreatedEvent,
            FileMovedEvent,
            FileSystemEvent,
            FileSystemEventHandler,
        )
        from watchdog.observers import Observer

        channel = self.channel
        folder = channel.settings.folder

        class Poke(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in _IGNORED or (event.is_directory and event.event_type == "modified"):
                    return
                target = os.fsdecode(event.dest_path or event.src_path)
                below = os.path.relpath(target, folder)
                if not any(is_temporary(part) for part in below.split(os.sep)):
                    channel.poke()

        observer = Observer()
        try:
            # Only what can make a file ready: created, closed after a write, moved in. Not
            # attribute changes or deletions: the channel's own moves (link + unlink) raise those.
            wanted = [FileCreatedEvent, FileClosedEvent, FileMovedEvent, DirCreatedEvent]
            observer.schedule(Poke(), folder, recursive=self.recursive, event_filter=wanted)
            observer.start()
        except Exception as exc:  # no inotify (limits, a file system without it): the poll still runs
            log.warning("pickup_inotify_unavailable", channel=channel.name, error=describe(exc))
            return
        self._observer = observer

    def close(self) -> None:
        """Stop watching for good (the channel stops)."""
        with self._lock:
            self._closed = True
            self._stop()

    def _stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(5)


class FileChannel:
    """A started ``file`` channel: the engine and its folder watch."""

    def __init__(self, channel: PickupChannel, watch: FolderWatch | None) -> None:
        self.channel = channel
        self.watch = watch

    def stop(self, drain_s: float) -> None:
        if self.watch is not None:
            self.watch.close()
        self.channel.stop(drain_s)

    def status(self) -> dict[str, object]:
        return self.channel.status()


def start_file(name: str, settings: FileChannelSettings, host: ChannelHost) -> FileChannel:
    """The ``file`` ChannelType's ``start``; a missing folder is reported by the polls, not refused."""
    channel = PickupChannel(name, settings, host, LocalSource(), lease_name="file:" + name)
    watch = FolderWatch(channel, settings.recursive) if settings.inotify else None
    channel.on_poll = watch
    channel.start()
    return FileChannel(channel, watch)
