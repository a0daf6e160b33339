"""A pickup folder with ``[hotdeploy] publish = true``: what is saved there is published to the store.

The folder is then not deployed by this server directly: like every other
server, it deploys what the store holds (:mod:`portway.hotdeploy.mirror`),
so all of them run the same code. At boot the folder's files that differ
from the store are published (the folder is the truth for the files it
holds; files it lacks are not removed from the store); afterwards each
save publishes the file and each delete removes it. A file refused on trial
stays out of the store, is logged with file, line and error, and is listed
in ``portway deploy status`` until a save mends it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from portway.errors import DeployError
from portway.hotdeploy.listing import is_service_path, scan
from portway.hotdeploy.sources import read_source
from portway.publishing import PublishRefused, PublishReport

log = structlog.get_logger("portway.cluster")

if TYPE_CHECKING:
    from portway.hotdeploy.watcher import Watcher

Publish = Callable[..., PublishReport]


class FolderPublisher:
    """Publishes the service files of ``dirs`` through ``publish`` (bound to the store and settings)."""

    def __init__(self, dirs: list[Path], publish: Publish, max_file_bytes: int) -> None:
        self.dirs = [d for d in dirs if d.is_dir()]
        self._publish = publish
        self._max = max_file_bytes
        self.failures: dict[str, DeployError] = {}  # absolute path -> why it is not published
        self.watcher: Watcher | None = None

    def publish_all(self) -> None:
        """Boot: publish every file of the folders whose content differs from the store."""
        self.publish_paths([str(d) for d in self.dirs], removals=False)

    def publish_paths(self, paths: list[str], *, removals: bool = True) -> bool:
        """Publish changed files and folders; with ``removals``, gone ones are removed from the store."""
        files: dict[str, bytes] = {}
        origin: dict[str, str] = {}
        deletes: list[str] = []
        for raw in paths:
            for path in self._expand(raw):
                rel = self._relative(path)
                if rel is None:
                    continue
                try:
                    files[rel] = read_source(path, limit=self._max)
                    origin[rel] = path
                except FileNotFoundError:
                    if removals:
                        deletes.append(rel)
                except DeployError as exc:
                    self._refused(path, exc)
        if not files and not deletes:
            return False
        try:
            report = self._publish(files, delete=tuple(deletes))
        except PublishRefused as exc:
            for error in exc.errors:
                self._refused(origin.get(error.path, error.path), error)
            return False
        for rel in files:
            self.failures.pop(origin[rel], None)
        if report.added or report.updated or report.removed:
            log.info(
                "published",
                revision=report.revision,
                added=report.added,
                updated=report.updated,
                removed=report.removed,
            )
        return False

    def start_watching(self) -> None:
        from portway.hotdeploy.watcher import Watcher

        watcher = Watcher(self.dirs, deploy=self.publish_paths, when_idle=lambda: None)
        watcher.start()
        self.watcher = watcher

    def stop(self) -> None:
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()

    def _expand(self, raw: str) -> list[str]:
        path = os.path.abspath(raw)
        if os.path.isdir(path) and not os.path.islink(path):
            return list(scan(Path(path)))
        return [path] if is_service_path(path) else []

    def _relative(self, path: str) -> str | None:
        for root in self.dirs:
            prefix = str(root) + os.sep
            if path.startswith(prefix):
                if os.path.islink(path):
                    self._refused(path, DeployError(path, None, "a symlink is not published; copy the file"))
                    return None
                return path[len(prefix) :].replace(os.sep, "/")
        return None

    def _refused(self, path: str, error: DeployError) -> None:
        self.failures[path] = DeployError(path, error.line, error.problem)
        log.warning("publish_refused", path=path, line=error.line, error=error.problem)
