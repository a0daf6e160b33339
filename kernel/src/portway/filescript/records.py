"""What a script leaves behind: its transcript, the error that stopped it, df's figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from portway.files import FileError, NotFound, PermissionDenied

Stream = Literal["out", "err"]


@dataclass(frozen=True)
class DiskUsage:
    """File system figures for ``df``, in bytes."""

    size: int
    used: int
    available: int
    available_root: int


@dataclass(frozen=True)
class Transcript:
    """What a script printed: ``(stream, line)`` pairs in order."""

    lines: tuple[tuple[Stream, str], ...]

    @property
    def output(self) -> str:
        """The lines ``sftp -b`` writes to stdout (echoes, listings)."""
        return "".join(text + "\n" for stream, text in self.lines if stream == "out")

    @property
    def errors(self) -> str:
        """The lines ``sftp -b`` writes to stderr (one per failed command)."""
        return "".join(text + "\n" for stream, text in self.lines if stream == "err")

    def __str__(self) -> str:
        return "".join(text + "\n" for _stream, text in self.lines)


class ScriptFailed(FileError):
    """A script command failed; the script stopped there.

    ``path`` and ``reason`` come from the failing command, ``line`` is its
    1-based line number, ``transcript`` holds everything printed so far.
    """

    def __init__(self, path: str, reason: str, line: int, command: str, transcript: Transcript) -> None:
        super().__init__(path, reason)
        self.line = line
        self.command = command
        self.transcript = transcript

    def __str__(self) -> str:
        return f"line {self.line} ({self.command}): {self.path}: {self.reason}"


class CommandError(Exception):
    """One command failed; ``message`` is the line sftp would print."""

    def __init__(self, message: str, path: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.reason = reason or message


def reason_of(exc: FileError) -> str:
    """The wording sftp uses for the common status codes; otherwise the server's own."""
    if isinstance(exc, NotFound):
        return "No such file or directory"
    if isinstance(exc, PermissionDenied):
        return "Permission denied"
    return exc.reason
