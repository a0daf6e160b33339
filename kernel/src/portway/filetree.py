"""Recursive upload, download and delete, written once for every file protocol.

A protocol client (SFTP, FTP, ...) implements the few single-entry primitives
of :class:`TreeClient`; this module walks local and remote trees with them.
Directories are created in walk order; files may then be transferred by
several workers at once (each with its own client, e.g. one SFTP channel or
one FTP connection per worker), which is what makes many small files fast.
"""

from __future__ import annotations

import posixpath
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog

from portway.files import FileError, FileInfo, FileKind, NotFound

log = structlog.get_logger("portway.filetree")

OnDirectory = Callable[[str], None]
"""Called with each directory's path as the walk enters it (for transcripts)."""


class TreeClient(Protocol):
    """Single-entry primitives a protocol client offers to the tree walkers.

    ``remove_*`` act on one entry and never recurse; the ``delete*`` methods of
    :class:`portway.files.FileClient` are the checked, user-facing versions.
    """

    def get_info(self, remote: str) -> FileInfo:
        """Describe the entry itself (a symlink is reported as a symlink)."""
        ...

    def list(self, remote: str = ".") -> list[FileInfo]:
        """Entries of a directory, without ``.`` and ``..``."""
        ...

    def create_directory(self, remote: str) -> None: ...

    def upload_file(self, local: str | Path, remote: str, *, preserve: bool | None = None) -> None:
        """Upload one regular file atomically; ``preserve`` keeps mtime and mode."""
        ...

    def download_file(self, remote: str, local: str | Path, *, preserve: bool | None = None) -> None:
        """Download one regular file (a symlink to one is followed)."""
        ...

    def remove_file(self, remote: str) -> None:
        """Unlink one entry that is not a directory (a file or a symlink)."""
        ...

    def remove_directory(self, remote: str) -> None:
        """Remove one empty directory."""
        ...


WorkerFactory = Callable[[], AbstractContextManager[TreeClient]]
"""Opens a client for one extra transfer worker; closed when the worker ends."""


@dataclass(frozen=True)
class _Job:
    source: str
    target: str


def upload(
    client: TreeClient,
    local: str | Path,
    remote: str,
    *,
    preserve: bool | None = None,
    workers: int = 1,
    open_worker: WorkerFactory | None = None,
    on_directory: OnDirectory | None = None,
) -> int:
    """Upload a local file or directory tree to ``remote``; return the number of files.

    Remote directories that exist already are reused; each file is uploaded
    atomically by the client. Local symlinks are followed; other special files
    (sockets, devices) are skipped with a log line.
    """
    source = Path(local)
    if not source.exists():
        raise NotFound(str(source), "local path does not exist")
    if not source.is_dir():
        client.upload_file(source, remote, preserve=preserve)
        return 1
    jobs: list[_Job] = []
    for directory, target in _local_dirs(source, remote):
        if on_directory is not None:
            on_directory(str(directory))
        _ensure_remote_directory(client, target)
        for entry in sorted(directory.iterdir()):
            if entry.is_file():
                jobs.append(_Job(str(entry), posixpath.join(target, entry.name)))
            elif not entry.is_dir():
                log.info("upload_skipped", path=str(entry), reason="not a regular file or directory")
    _run(
        jobs,
        lambda c, job: c.upload_file(Path(job.source), job.target, preserve=preserve),
        client,
        workers,
        open_worker,
    )
    return len(jobs)


def download(
    client: TreeClient,
    remote: str,
    local: str | Path,
    *,
    preserve: bool | None = None,
    workers: int = 1,
    open_worker: WorkerFactory | None = None,
    on_directory: OnDirectory | None = None,
) -> int:
    """Download a remote file or directory tree to ``local``; return the number of files.

    Remote symlinks to files are downloaded as files; symlinks to
    directories are not followed (that could loop) and are logged.
    """
    info = client.get_info(remote)
    if info.kind is not FileKind.DIR:
        client.download_file(remote, local, preserve=preserve)
        return 1
    jobs: list[_Job] = []
    pending: list[tuple[str, Path]] = [(remote, Path(local))]
    while pending:
        directory, target = pending.pop()
        if on_directory is not None:
            on_directory(directory)
        target.mkdir(parents=True, exist_ok=True)
        children = sorted(client.list(directory), key=lambda i: i.name)
        subdirs: list[tuple[str, Path]] = []
        for child in children:
            path = posixpath.join(directory, child.name)
            if child.kind is FileKind.DIR:
                subdirs.append((path, target / child.name))
            elif child.kind in (FileKind.FILE, FileKind.SYMLINK):
                jobs.append(_Job(path, str(target / child.name)))
            else:
                log.info("download_skipped", path=path, reason="not a regular file or directory")
        pending.extend(reversed(subdirs))  # depth first, in name order
    _run(jobs, _download_job(preserve), client, workers, open_worker)
    return len(jobs)


def delete(client: TreeClient, remote: str) -> int:
    """Delete any entry; a directory with everything below it. Return entries removed.

    Symlinks are removed, never followed.
    """
    info = client.get_info(remote)
    if info.kind is not FileKind.DIR:
        client.remove_file(remote)
        return 1
    removed = 0
    for child in client.list(remote):
        removed += delete(client, posixpath.join(remote, child.name))
    client.remove_directory(remote)
    return removed + 1


def _download_job(preserve: bool | None) -> Callable[[TreeClient, _Job], None]:
    def run(c: TreeClient, job: _Job) -> None:
        try:
            c.download_file(job.source, Path(job.target), preserve=preserve)
        except FileError as exc:
            # A symlink pointing at a directory or at nothing: skip it, as sftp does.
            info = c.get_info(job.source)
            if info.kind is not FileKind.SYMLINK:
                raise
            log.info("download_skipped", path=job.source, reason=exc.reason)

    return run


def _local_dirs(root: Path, remote: str) -> Iterator[tuple[Path, str]]:
    """Local directories under ``root`` depth first in name order, with their remote paths."""
    yield root, remote
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            yield from _local_dirs(entry, posixpath.join(remote, entry.name))


def _ensure_remote_directory(client: TreeClient, remote: str) -> None:
    try:
        client.create_directory(remote)
    except FileError:
        # Many servers answer only "Failure" for an existing directory: look.
        if client.get_info(remote).kind is not FileKind.DIR:
            raise


def _run(
    jobs: list[_Job],
    work: Callable[[TreeClient, _Job], None],
    client: TreeClient,
    workers: int,
    open_worker: WorkerFactory | None,
) -> None:
    """Run jobs on ``client`` plus up to ``workers - 1`` extra workers; re-raise the first error."""
    extra = min(workers, len(jobs)) - 1 if open_worker is not None else 0
    if extra <= 0:
        for job in jobs:
            work(client, job)
        return
    todo: queue.SimpleQueue[_Job] = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    failed = threading.Event()
    errors: list[BaseException] = []

    def drain(factory: Callable[[], AbstractContextManager[TreeClient]]) -> None:
        try:
            with factory() as worker:
                while not failed.is_set():
                    try:
                        job = todo.get_nowait()
                    except queue.Empty:
                        return
                    work(worker, job)
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)
            failed.set()

    assert open_worker is not None
    threads = [threading.Thread(target=drain, args=(open_worker,), daemon=True) for _ in range(extra)]
    for thread in threads:
        thread.start()
    drain(lambda: nullcontext(client))
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
