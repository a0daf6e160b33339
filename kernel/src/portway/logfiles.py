"""The server's own log file: rotated by size, readable by its owner only."""

from __future__ import annotations

import io
import logging.handlers
import os
from dataclasses import dataclass
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


@dataclass(frozen=True)
class LogFile:
    """Where the server logs, and when the file is rotated (``[log] max_bytes``, ``backups``)."""

    path: Path
    max_bytes: int
    backups: int


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A size-rotated log whose every file is created 0600, with no moment of wider access."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        os.fchmod(fd, FILE_MODE)  # an older, wider file (made before this rule) is narrowed too
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def private_folder(path: Path) -> None:
    """Make ``path`` (if needed) and leave it to its owner only."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)


def open_handler(log_file: LogFile) -> logging.Handler:
    """A handler writing ``log_file``, its folder and files made private first."""
    private_folder(log_file.path.parent)
    return PrivateRotatingFileHandler(
        log_file.path, maxBytes=log_file.max_bytes, backupCount=log_file.backups, encoding="utf-8"
    )


def open_private(path: Path) -> int:
    """A file descriptor appending to ``path``, created (or narrowed to) 0600."""
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd
