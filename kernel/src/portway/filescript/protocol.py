"""What the interpreter needs from a protocol client (SFTP, FTP, ...)."""

from __future__ import annotations

from typing import Protocol

from portway.filescript.records import DiskUsage
from portway.filetree import TreeClient


class ScriptClient(TreeClient, Protocol):
    """What the interpreter needs from a protocol client beyond :class:`TreeClient`.

    Paths passed in are absolute; the interpreter keeps the working directory.
    """

    def home(self) -> str:
        """The absolute directory a session starts in (``cd`` with no argument)."""
        ...

    def realpath(self, remote: str) -> str:
        """The canonical absolute form of ``remote`` (``..`` and symlinks resolved)."""
        ...

    def disk_usage(self, remote: str) -> DiskUsage:
        """Figures for the file system holding ``remote``; :class:`Unsupported` if unknown."""
        ...

    def rename(self, source: str, target: str) -> None: ...
    def create_symlink(self, target: str, link: str) -> None: ...
    def create_hardlink(self, target: str, link: str) -> None: ...
    def chmod(self, mode: str | int, remote: str) -> None: ...
    def chown(self, owner: str | int, remote: str) -> None: ...
    def chgrp(self, group: str | int, remote: str) -> None: ...
