"""Looking at the server's tree: one entry (MLST), a folder (MLSD, else LIST), what kind a path is."""

from __future__ import annotations

import builtins
import posixpath
from dataclasses import replace
from datetime import UTC, datetime

from portway.files import FileError, FileInfo, FileKind, NotADirectory, NotFound, Unsupported
from portway_ftp.data import DataChannel
from portway_ftp.errors import ServerRefused, narrowed, reply_code, with_reply
from portway_ftp.listing import parse_facts, parse_list_line


class Browsing(DataChannel):
    """``get_info``, ``list`` and the ``is_*`` questions of the file API."""

    def get_info(self, remote: str) -> FileInfo:
        """Describe one entry (MLST, or the parent's LIST when the server has no MLST)."""
        path = self._abs(remote)
        if path == "/":
            return FileInfo(name="/", path="/", kind=FileKind.DIR)
        if self._mlsd:
            reply = self._command("stat", path, f"MLST {path}")
            for line in reply.splitlines()[1:]:
                if line.startswith(" "):
                    info = parse_facts(line, "")
                    if info is not None:
                        return _placed(info, path)
            raise with_reply(ServerRefused(path, f"stat: no facts in the MLST reply: {reply}"), reply)
        parent, name = posixpath.split(path)
        try:
            entries = self._list_plain(parent)
        except (NotFound, NotADirectory) as exc:
            raise with_reply(NotFound(path, exc.reason), getattr(exc, "reply", None)) from exc
        for info in entries:
            if info.name == name:
                return info
        raise with_reply(NotFound(path, f"no entry named {name!r} in {parent}"), None)

    def is_directory(self, remote: str) -> bool:
        return self._kind(remote) is FileKind.DIR

    def is_file(self, remote: str) -> bool:
        return self._kind(remote) is FileKind.FILE

    def is_symlink(self, remote: str) -> bool:
        return self._kind(remote) is FileKind.SYMLINK

    def list(self, remote: str = ".") -> builtins.list[FileInfo]:
        """Entries of a directory (MLSD, else LIST), without ``.`` and ``..``, sorted by name."""
        path = self._abs(remote)
        if self._mlsd:
            try:
                lines = self._data_lines(f"MLSD {path}", "list", path)
            except Unsupported:
                self._mlsd = False  # advertised but refused: old server; LIST from now on
            except FileError as exc:
                narrowed(self._why_not_listed(exc, path), exc)
            else:
                found = (parse_facts(line, path) for line in lines)
                return sorted((i for i in found if i is not None), key=lambda i: i.name)
        return self._list_plain(path)

    def _list_plain(self, path: str) -> builtins.list[FileInfo]:
        try:
            self._command("list", path, f"CWD {path}")
        except FileError as exc:
            narrowed(self._why_not_listed(exc, path), exc)
        try:
            lines = self._data_lines("LIST -a", "list", path)
        except FileError as exc:
            if reply_code(getattr(exc, "reply", "") or "") // 100 != 5:
                raise
            lines = self._data_lines("LIST", "list", path)  # a server that takes -a for a file name
        now = datetime.now(UTC)
        found = (parse_list_line(line, path, now) for line in lines)
        return sorted((i for i in found if i is not None), key=lambda i: i.name)

    def _why_not_listed(self, exc: FileError, path: str) -> FileError:
        if isinstance(exc, NotFound | ServerRefused | NotADirectory) and path != "/":
            try:
                kind = self._kind(path) if self._mlsd else self._kind_via_parent(path)
            except FileError:
                kind = None
            if kind is None:
                return with_reply(NotFound(path, exc.reason), getattr(exc, "reply", None))
            if kind is not FileKind.DIR:
                return with_reply(NotADirectory(path, "not a directory"), getattr(exc, "reply", None))
        return exc

    def _kind_via_parent(self, path: str) -> FileKind | None:
        parent, name = posixpath.split(path)
        for info in self._list_plain(parent):
            if info.name == name:
                return info.kind
        return None


def _placed(info: FileInfo, path: str) -> FileInfo:
    """The same entry, named and placed at ``path``."""
    return replace(info, name=posixpath.basename(path) or path, path=path)
