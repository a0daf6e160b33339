"""Changing the tree: folders, links, renames and deletes of single entries."""

from __future__ import annotations

from collections.abc import Callable

from portway.files import AlreadyExists, FileError, FileKind, IsADirectory, Unsupported
from portway_sftp.connection import SftpConnection


class Entries(SftpConnection):
    """``create_*``, ``move``/``rename``, ``delete_file``/``delete_symlink`` and ``remove_*``."""

    def create_directory(self, remote: str) -> None:
        path = self._abs(remote)
        self._create(path, lambda: self._sftp.mkdir(path))

    def create_symlink(self, target: str, link: str) -> None:
        """Make ``link`` point at ``target`` (a relative target is stored as written)."""
        path = self._abs(link)
        self._create(path, lambda: self._sftp.symlink(target, path))

    def _create(self, path: str, make: Callable[[], object]) -> None:
        """Run ``make``; SFTP's generic failure on a path that exists now means it was there."""
        try:
            self._call(path, make)
        except FileError as exc:
            if type(exc) is FileError and self._exists(path):
                raise AlreadyExists(path, f"exists already (server said: {exc.reason})") from exc
            raise

    def create_hardlink(self, target: str, link: str) -> None:
        from paramiko.sftp import CMD_EXTENDED

        source, path = self._abs(target), self._abs(link)
        try:
            self._call(
                path,
                lambda: self._sftp._request(CMD_EXTENDED, "hardlink@openssh.com", source, path),  # type: ignore[attr-defined]
            )
        except FileError as exc:
            if "unsupported" in exc.reason.lower():
                raise Unsupported(path, "the server has no hardlink@openssh.com extension") from exc
            if type(exc) is FileError and self._exists(path):
                raise AlreadyExists(path, f"exists already (server said: {exc.reason})") from exc
            raise

    def delete_file(self, remote: str) -> None:
        """Delete a regular file; refuse a directory or symlink."""
        path = self._abs(remote)
        info = self.get_info(path)
        if info.kind is FileKind.DIR:
            raise IsADirectory(path, "is a directory; use delete_directory")
        if info.kind is FileKind.SYMLINK:
            raise FileError(path, "is a symlink; use delete_symlink")
        self.remove_file(path)

    def delete_symlink(self, remote: str) -> None:
        """Delete a symlink itself (never what it points at)."""
        path = self._abs(remote)
        if self.get_info(path).kind is not FileKind.SYMLINK:
            raise FileError(path, "is not a symlink")
        self.remove_file(path)

    def remove_file(self, remote: str) -> None:
        path = self._abs(remote)
        try:
            self._call(path, lambda: self._sftp.remove(path))
        except FileError as exc:
            if type(exc) is FileError and self._is_dir(path):
                raise IsADirectory(path, f"is a directory (server said: {exc.reason})") from exc
            raise

    def remove_directory(self, remote: str) -> None:
        path = self._abs(remote)
        try:
            self._call(path, lambda: self._sftp.rmdir(path))
        except FileError as exc:
            if type(exc) is FileError and self._is_dir(path) and self.list(path):
                raise FileError(path, f"directory not empty (server said: {exc.reason})") from exc
            raise

    def move(self, source: str, target: str) -> None:
        """Move or rename; replaces an existing target file where the server has posix-rename."""
        old, new = self._abs(source), self._abs(target)
        self._call(old, lambda: self._replace(old, new))

    def rename(self, source: str, target: str) -> None:
        """Same as :meth:`move`."""
        self.move(source, target)

    def rename_new(self, source: str, target: str) -> None:
        """Rename, refusing an existing target (plain SSH_FXP_RENAME, one round trip): pickup moves."""
        old, new = self._abs(source), self._abs(target)
        try:
            self._call(old, lambda: self._sftp.rename(old, new))
        except FileError as exc:
            if type(exc) is FileError and self._exists(new):
                raise AlreadyExists(new, f"exists already (server said: {exc.reason})") from exc
            raise
