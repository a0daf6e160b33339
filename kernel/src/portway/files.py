"""One file API for every file-transfer protocol (SFTP, FTP, ...).

Services see the same :class:`FileClient` whatever the protocol, so a
service can switch from SFTP to FTP by changing one connection name.
An operation a protocol cannot do raises :class:`Unsupported`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from portway.errors import PortwayError


class FileKind(StrEnum):
    """What a directory entry is."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    OTHER = "other"


@dataclass(frozen=True)
class FileInfo:
    """One directory entry, the same for every protocol."""

    name: str
    path: str
    kind: FileKind
    size: int | None = None
    mtime: datetime | None = None
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    link_target: str | None = None

    @property
    def is_dir(self) -> bool:
        return self.kind is FileKind.DIR

    @property
    def is_file(self) -> bool:
        return self.kind is FileKind.FILE

    @property
    def is_symlink(self) -> bool:
        return self.kind is FileKind.SYMLINK


class FileError(PortwayError):
    """A file operation failed; carries the remote path and the server's reason."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class NotFound(FileError):
    """The path does not exist."""


class PermissionDenied(FileError):
    """The server refused the operation on this path."""


class AlreadyExists(FileError):
    """The target path exists already."""


class NotADirectory(FileError):
    """A directory was expected."""


class IsADirectory(FileError):
    """A file was expected but the path is a directory."""


class NoSpace(FileError):
    """The server is out of disk space or quota."""


class Unsupported(FileError):
    """The protocol or server cannot do this operation."""


class TransferError(FileError):
    """A transfer failed part way; no partial file was left at the target."""


class ConnectError(FileError):
    """Could not connect or log in (path is the server address)."""


@runtime_checkable
class FileClient(Protocol):
    """Operations every file connection offers. Paths are remote unless named local."""

    def execute(self, script: str) -> str:
        """Run a batch script in OpenSSH ``sftp -b`` syntax; return the transcript."""
        ...

    def ping(self) -> float:
        """Run the ping command; return the time it took in milliseconds."""
        ...

    def download(self, remote: str, local: str | Path) -> None:
        """Download a file or, recursively, a directory."""
        ...

    def download_file(self, remote: str, local: str | Path) -> None:
        """Download one file; raise :class:`IsADirectory` for a directory."""
        ...

    def read(self, remote: str) -> bytes:
        """Return a remote file's contents."""
        ...

    def upload(self, local: str | Path, remote: str) -> None:
        """Upload a file or, recursively, a directory; atomic per file."""
        ...

    def write(self, data: bytes | str, remote: str) -> None:
        """Write data to a remote file atomically (``str`` is UTF-8 encoded)."""
        ...

    def create_directory(self, remote: str) -> None: ...
    def create_symlink(self, target: str, link: str) -> None: ...
    def create_hardlink(self, target: str, link: str) -> None: ...

    def delete(self, remote: str) -> None:
        """Delete any kind of entry, a directory recursively."""
        ...

    def delete_directory(self, remote: str) -> None: ...
    def delete_file(self, remote: str) -> None: ...
    def delete_symlink(self, remote: str) -> None: ...
    def get_info(self, remote: str) -> FileInfo: ...
    def is_directory(self, remote: str) -> bool: ...
    def is_file(self, remote: str) -> bool: ...
    def is_symlink(self, remote: str) -> bool: ...
    def list(self, remote: str = ".") -> list[FileInfo]: ...
    def move(self, source: str, target: str) -> None: ...
    def rename(self, source: str, target: str) -> None: ...
    def chmod(self, mode: str | int, remote: str) -> None: ...
    def chown(self, owner: str | int, remote: str) -> None: ...
    def chgrp(self, group: str | int, remote: str) -> None: ...


def parse_mode(mode: str | int) -> int:
    """Turn ``"755"``, ``"0o755"`` or ``493`` into an int; reject anything else."""
    if isinstance(mode, int):
        value = mode
    else:
        text = mode.strip().lower().removeprefix("0o")
        if not text or any(c not in "01234567" for c in text):
            raise ValueError(f"mode {mode!r} is not an octal number such as 644 or 0o755")
        value = int(text, 8)
    if not 0 <= value <= 0o7777:
        raise ValueError(f"mode {mode!r} is out of range (0 to 7777 octal)")
    return value
