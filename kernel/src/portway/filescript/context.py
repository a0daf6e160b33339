"""The state a script runs in: the client, the remote and local working directories, what it printed.

Commands are functions of a :class:`ScriptContext`; the steps they share
(resolving paths, expanding globs, turning a client error into sftp's
message) live here with the state.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Callable
from pathlib import Path

from portway.files import FileError, FileInfo, FileKind, NotFound
from portway.filescript.parsing import GLOB_CHARS
from portway.filescript.protocol import ScriptClient
from portway.filescript.records import CommandError, Stream, reason_of


class ScriptContext:
    """A client with its own remote and local working directories, and the lines printed so far.

    The local directory is tracked here, never via ``os.chdir``, so scripts in
    different threads do not disturb each other.
    """

    def __init__(self, client: ScriptClient, *, local_dir: str | Path | None = None) -> None:
        self.client = client
        self._home: str | None = None
        self._cwd: str | None = None
        self.local_cwd = Path(local_dir if local_dir is not None else os.getcwd()).resolve()
        self.finished = False
        self._out: list[tuple[Stream, str]] = []

    @property
    def cwd(self) -> str:
        if self._cwd is None:
            self._cwd = self.home
        return self._cwd

    @cwd.setter
    def cwd(self, path: str) -> None:
        self._cwd = path

    @property
    def home(self) -> str:
        if self._home is None:
            self._home = self.client.home()
        return self._home

    def print(self, text: str, stream: Stream = "out") -> None:
        """Add a line to the transcript."""
        self._out.append((stream, text))

    # -- paths ----------------------------------------------------------

    def remote(self, path: str) -> str:
        """``path`` made absolute against the remote working directory."""
        return path if path.startswith("/") else posixpath.join(self.cwd, path)

    def local(self, path: str) -> Path:
        """``path`` against the local working directory (``~`` expanded)."""
        return self.local_cwd / Path(path).expanduser()

    def remote_glob(self, pattern: str) -> list[tuple[str, FileInfo]]:
        """``(path as the user wrote it, info)`` for each match; a plain path matches itself."""
        directory, name = posixpath.split(pattern)
        if not GLOB_CHARS.intersection(name):
            return [(pattern, self.client.get_info(self.remote(pattern)))]
        listed = self.client.list(self.remote(directory or "."))
        found = [
            (posixpath.join(directory, info.name), info)
            for info in sorted(listed, key=lambda i: i.name)
            if fnmatch.fnmatchcase(info.name, name)
            and (name.startswith(".") or not info.name.startswith("."))
        ]
        if not found:
            raise NotFound(self.remote(pattern), "No such file or directory")
        return found

    def is_directory(self, info: FileInfo, path: str) -> bool:
        """Whether ``info`` is a directory, or a symlink to one."""
        if info.kind is FileKind.DIR:
            return True
        if info.kind is not FileKind.SYMLINK:
            return False
        try:
            return self.client.get_info(self.client.realpath(path)).kind is FileKind.DIR
        except FileError:
            return False

    def remote_is_directory(self, path: str) -> bool:
        """Whether remote ``path`` is a directory (False when it does not exist)."""
        try:
            return self.is_directory(self.client.get_info(path), path)
        except NotFound:
            return False
        except FileError as exc:
            raise CommandError(f'stat "{path}": {reason_of(exc)}', path, exc.reason) from exc

    def targets(self, pattern: str, message: str) -> list[str]:
        """The remote paths ``pattern`` names; ``message`` (with ``{path}``) words a failed glob."""
        if not GLOB_CHARS.intersection(posixpath.basename(pattern)):
            return [self.remote(pattern)]
        try:
            return [self.remote(shown) for shown, _info in self.remote_glob(pattern)]
        except FileError as exc:
            path = self.remote(pattern)
            raise CommandError(f"{message.format(path=path)}: {reason_of(exc)}", path, exc.reason) from exc

    def remote_call(self, what: str, path: str, call: Callable[[], None]) -> None:
        """Run a client call; its failure becomes sftp's ``what: reason`` line."""
        try:
            call()
        except FileError as exc:
            raise CommandError(f"{what}: {reason_of(exc)}", exc.path or path, exc.reason) from exc
        except ValueError as exc:
            raise CommandError(f"{what}: {exc}", path, str(exc)) from exc
