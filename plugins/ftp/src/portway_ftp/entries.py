"""Changing the tree: folders, links, renames, permissions, deletes (MKD, RNFR/RNTO, SITE, DELE, RMD)."""

from __future__ import annotations

from portway.files import AlreadyExists, FileError, Unsupported, parse_mode
from portway_ftp.errors import narrowed, unsupported, with_reply
from portway_ftp.session import FtpSession


class Entries(FtpSession):
    """``create_*``, ``move``/``rename``, ``chmod`` and ``delete*`` of the file API."""

    def create_directory(self, remote: str) -> None:
        """Create one directory (MKD); :class:`AlreadyExists` when something has the name."""
        path = self._abs(remote)
        try:
            self._command("create directory", path, f"MKD {path}")
        except FileError as exc:
            if not isinstance(exc, AlreadyExists) and self._kind(path) is not None:
                raise with_reply(AlreadyExists(path, exc.reason), getattr(exc, "reply", None)) from exc
            raise

    def create_symlink(self, target: str, link: str) -> None:
        """``SITE SYMLINK`` where the server offers it (ProFTPD's mod_site_misc); else Unsupported."""
        path = self._abs(link)
        self._site("create symlink", path, f"SITE SYMLINK {target} {path}", "symbolic links")

    def create_hardlink(self, target: str, link: str) -> None:
        """FTP cannot make hard links."""
        raise unsupported(self._abs(link), "FTP cannot create hard links")

    def move(self, source: str, target: str) -> None:
        """Move or rename an entry (RNFR/RNTO); servers replace an existing target file."""
        self.rename(source, target)

    def rename(self, source: str, target: str) -> None:
        """Rename an entry (RNFR/RNTO)."""
        old, new = self._abs(source), self._abs(target)
        try:
            self._command("rename", old, f"RNFR {old}")
        except FileError as exc:
            narrowed(self._explain(exc, old), exc)
        self._command("rename", new, f"RNTO {new}")

    def chmod(self, mode: str | int, remote: str) -> None:
        """Change permission bits with ``SITE CHMOD`` (``"644"``, ``"0o755"`` or an int)."""
        path = self._abs(remote)
        bits = parse_mode(mode)
        self._site("chmod", path, f"SITE CHMOD {bits:o} {path}", "SITE CHMOD")

    def chown(self, owner: str | int, remote: str) -> None:
        """FTP has no standard command to change an owner."""
        raise unsupported(self._abs(remote), "FTP cannot change a file's owner")

    def chgrp(self, group: str | int, remote: str) -> None:
        """FTP has no standard command to change a group."""
        raise unsupported(self._abs(remote), "FTP cannot change a file's group")

    def delete_file(self, remote: str) -> None:
        """Delete one file (DELE); :class:`IsADirectory` for a directory."""
        self.remove_file(remote)

    def delete_symlink(self, remote: str) -> None:
        """Delete a symbolic link itself (DELE), never what it points to."""
        self.remove_file(remote)

    def remove_file(self, remote: str) -> None:
        """DELE one entry that is not a directory."""
        path = self._abs(remote)
        try:
            self._command("delete", path, f"DELE {path}")
        except FileError as exc:
            narrowed(self._explain(exc, path, wants_file=True), exc)

    def remove_directory(self, remote: str) -> None:
        """RMD one empty directory."""
        path = self._abs(remote)
        try:
            self._command("delete directory", path, f"RMD {path}")
        except FileError as exc:
            narrowed(self._explain(exc, path), exc)

    def _site(self, action: str, path: str, line: str, feature: str) -> None:
        try:
            self._command(action, path, line)
        except Unsupported as exc:
            raise with_reply(
                Unsupported(path, f"this server does not offer {feature}: {exc.reason}"),
                getattr(exc, "reply", None),
            ) from exc
        except FileError as exc:
            narrowed(self._explain(exc, path), exc)
