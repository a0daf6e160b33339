"""An FTP/FTPS session offering the shared file API (:class:`portway.files.FileClient`).

Every path is made absolute against the login directory before it is sent,
so the server's working directory never matters and a script's ``cd`` is
kept by the script interpreter, not by the connection.

The client is made of parts, each in a module of its own: the session and
its commands (:mod:`~portway_ftp.session`), data connections
(:mod:`~portway_ftp.data`), looking at the tree (:mod:`~portway_ftp.browsing`),
moving contents (:mod:`~portway_ftp.storing`) and changing the tree
(:mod:`~portway_ftp.entries`).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from portway import filescript, filetree
from portway.files import FileError, FileKind, NotADirectory
from portway_ftp.browsing import Browsing
from portway_ftp.entries import Entries
from portway_ftp.errors import is_broken, unsupported, with_reply
from portway_ftp.handshake import parse_pwd
from portway_ftp.listing import child_path
from portway_ftp.storing import Storing

__all__ = ["FtpClient", "is_broken"]


class FtpClient(Browsing, Storing, Entries):
    """A logged-in FTP or FTPS session. Open with :meth:`open`, release with :meth:`close`.

    Not thread-safe: one caller at a time (the pool lends each client to one
    service call).
    """

    def execute(self, script: str) -> str:
        """Run an ``sftp -b`` style batch script; return its transcript.

        Raises :class:`portway.filescript.ScriptFailed` (a FileError) at the
        first failing command not prefixed by ``-``.
        """
        return str(filescript.run_script(self, script, prompt="ftp"))

    def home(self) -> str:
        """The directory the session started in (after ``settings.directory``)."""
        return self._home

    def realpath(self, remote: str) -> str:
        """The server's canonical path: CWD into a directory and PWD; files keep their name."""
        path = self._abs(remote)
        try:
            self._command("resolve", path, f"CWD {path}")
        except FileError:
            parent = posixpath.dirname(path)
            if parent == path:
                raise
            return child_path(self.realpath(parent), posixpath.basename(path))
        return parse_pwd(self._command("resolve", path, "PWD")) or path

    def disk_usage(self, remote: str) -> filescript.DiskUsage:
        """FTP has no command for free space."""
        raise unsupported(self._abs(remote), "FTP has no command to report disk usage")

    # -- whole trees (portway.filetree walks them with the parts above) --

    def download(self, remote: str, local: str | Path, *, preserve: bool | None = None) -> None:
        """Download a file or, recursively, a directory; each file appears whole or not at all."""
        filetree.download(self, self._abs(remote), local, preserve=preserve)

    def upload(self, local: str | Path, remote: str, *, preserve: bool | None = None) -> None:
        """Upload a file or, recursively, a directory; atomic per file."""
        filetree.upload(self, local, self._abs(remote), preserve=preserve)

    def delete(self, remote: str) -> None:
        """Delete any entry; a directory with everything below it."""
        filetree.delete(self, self._abs(remote))

    def delete_directory(self, remote: str) -> None:
        """Delete a directory with everything below it; :class:`NotADirectory` for anything else."""
        path = self._abs(remote)
        if self.get_info(path).kind is not FileKind.DIR:
            raise with_reply(NotADirectory(path, "not a directory; use delete_file"), None)
        filetree.delete(self, path)
