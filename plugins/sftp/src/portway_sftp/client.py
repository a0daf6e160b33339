"""The SFTP client services use: the whole :class:`portway.files.FileClient` API.

One client holds one SSH connection and one SFTP channel; directory
transfers open extra channels on the same connection for their workers.
Every failure is a :class:`portway.files.FileError` subclass naming the path
and the server's reason.

The client is made of parts, each in a module of its own: the connection
(:mod:`~portway_sftp.connection`), looking at the tree
(:mod:`~portway_sftp.listing`), reading and writing files
(:mod:`~portway_sftp.reading`, :mod:`~portway_sftp.writing`), changing the
tree (:mod:`~portway_sftp.entries`) and permissions and owners
(:mod:`~portway_sftp.ownership`), and the pickup's batched reads and renames
(:mod:`~portway_sftp.batches`, plugin API beyond the file API). Scripts and
whole trees are here.
"""

from __future__ import annotations

import contextlib
import posixpath
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

from portway import filetree
from portway.files import FileError, FileKind, NotADirectory, Unsupported
from portway.filescript import DiskUsage, Session, run_script
from portway_sftp.batches import Batches
from portway_sftp.entries import Entries
from portway_sftp.failures import ConnectionLost
from portway_sftp.listing import Listing
from portway_sftp.ownership import Ownership
from portway_sftp.reading import Reading
from portway_sftp.writing import Writing


class SftpClient(Listing, Reading, Writing, Entries, Ownership, Batches):
    """A live SFTP connection. Paths are remote unless named ``local``.

    Relative remote paths start from ``default_directory`` (or the login
    directory). Thread-safe for one caller at a time, as pooled clients are.
    """

    def execute(self, script: str) -> str:
        """Run an ``sftp -b`` style batch script; return its transcript.

        Raises :class:`portway.filescript.ScriptFailed` (with the transcript so
        far) at the first failing command not prefixed with ``-``.
        """
        return str(run_script(self, self._script_text(script)))

    def session(self, local_dir: str | Path | None = None) -> Session:
        """An interpreter that keeps its directories across lines (the interactive shell)."""
        session = Session(self, local_dir=local_dir)
        session._cwd = self._base
        return session

    def _script_text(self, script: str) -> str:
        # Scripts start in default_directory, as the rest of the API does.
        if self._base != self._home:
            return f"@cd {shlex.quote(self._base)}\n{script}"
        return script

    def ping(self) -> float:
        """Run the ping command; return how long it took in milliseconds."""
        started = time.perf_counter()
        self.execute(self.settings.ping_command)
        return (time.perf_counter() - started) * 1000

    def check(self) -> None:
        """Raise when the connection no longer works (used by the pool)."""
        if not self.transport.is_active():
            raise ConnectionLost(self.endpoint.address, "the SSH connection is closed")
        self.ping()

    def home(self) -> str:
        return self._home

    def realpath(self, remote: str) -> str:
        path = self._abs(remote)
        return self._call(path, lambda: self._sftp.normalize(path))

    def disk_usage(self, remote: str) -> DiskUsage:
        """Size and free space of the file system holding ``remote`` (statvfs@openssh.com)."""
        from paramiko.sftp import CMD_EXTENDED

        path = self._abs(remote)
        if "statvfs@openssh.com" not in self._extensions:
            raise Unsupported(path, "the server has no statvfs@openssh.com extension")
        try:
            _kind, msg = self._call(
                path,
                lambda: self._sftp._request(CMD_EXTENDED, "statvfs@openssh.com", path),  # type: ignore[attr-defined]
            )
        except FileError as exc:
            if "unsupported" in exc.reason.lower():
                self._extensions.discard("statvfs@openssh.com")
                raise Unsupported(path, "the server has no statvfs@openssh.com extension") from exc
            raise
        _bsize, frsize, blocks, bfree, bavail = (msg.get_int64() for _ in range(5))
        return DiskUsage(
            size=frsize * blocks,
            used=frsize * (blocks - bfree),
            available=frsize * bavail,
            available_root=frsize * bfree,
        )

    # -- whole trees (portway.filetree walks them with the parts above) --

    def download(self, remote: str, local: str | Path, *, preserve: bool | None = None) -> None:
        """Download a file or, recursively, a directory."""
        filetree.download(
            self,
            self._abs(remote),
            local,
            preserve=preserve,
            workers=self.settings.transfer_workers,
            open_worker=self._worker,
        )

    def upload(self, local: str | Path, remote: str, *, preserve: bool | None = None) -> None:
        """Upload a file or, recursively, a directory; each file lands atomically."""
        source = Path(local)
        target = self._abs(remote)
        if source.is_file() and self._is_dir(target):
            target = posixpath.join(target, source.name)
        filetree.upload(
            self,
            source,
            target,
            preserve=preserve,
            workers=self.settings.transfer_workers,
            open_worker=self._worker,
        )

    def delete(self, remote: str) -> None:
        """Delete any entry; a directory with all it holds. Symlinks are not followed."""
        filetree.delete(self, self._abs(remote))

    def delete_directory(self, remote: str) -> None:
        """Delete a directory and all it holds; refuse anything else."""
        path = self._abs(remote)
        if self.get_info(path).kind is not FileKind.DIR:
            raise NotADirectory(path, "is not a directory; use delete_file or delete_symlink")
        filetree.delete(self, path)

    def _worker(self) -> contextlib.AbstractContextManager[filetree.TreeClient]:
        """A second SFTP channel on the same connection, for one transfer worker."""

        @contextlib.contextmanager
        def channel() -> Iterator[filetree.TreeClient]:
            worker = self._sibling()
            try:
                yield worker
            finally:
                worker.close()

        return channel()
