"""Looking at the server's tree: one entry, a folder, what a path is, and owners by name."""

from __future__ import annotations

import builtins
import posixpath
import stat
from datetime import UTC, datetime
from typing import Any

from portway.files import FileInfo, FileKind, NotADirectory, NotFound
from portway_sftp.connection import SftpConnection


class Listing(SftpConnection):
    """``get_info``, ``list`` and the ``is_*`` questions of the file API."""

    def get_info(self, remote: str) -> FileInfo:
        """Describe an entry itself; a symlink is reported as one, with its target."""
        path = self._abs(remote)
        attrs = self._call(path, lambda: self._sftp.lstat(path))
        info = self._infos(posixpath.dirname(path) or "/", [(posixpath.basename(path) or "/", attrs)])[0]
        if info.kind is FileKind.SYMLINK:
            target = self._call(path, lambda: self._sftp.readlink(path))
            info = _with_target(info, path, target)
        return _with_path(info, path)

    def is_directory(self, remote: str) -> bool:
        """Whether ``remote`` is a directory (or a symlink to one)."""
        return self._is_dir(self._abs(remote))

    def is_file(self, remote: str) -> bool:
        """Whether ``remote`` is a regular file (or a symlink to one)."""
        path = self._abs(remote)
        try:
            return stat.S_ISREG(self._call(path, lambda: self._sftp.stat(path)).st_mode or 0)
        except NotFound:
            return False

    def is_symlink(self, remote: str) -> bool:
        path = self._abs(remote)
        try:
            return stat.S_ISLNK(self._call(path, lambda: self._sftp.lstat(path)).st_mode or 0)
        except NotFound:
            return False

    def list(self, remote: str = ".") -> list[FileInfo]:
        """Entries of a directory (not ``.`` and ``..``), sorted by name."""
        path = self._abs(remote)
        attrs = self._call(path, lambda: self._sftp.listdir_attr(path))
        entries = [(a.filename, a) for a in attrs if a.filename not in (".", "..")]
        if not entries and not self._is_dir(path):
            raise NotADirectory(path, "is not a directory")
        entries.sort(key=lambda item: item[0])
        return self._infos(path, entries)

    def _infos(self, directory: str, entries: builtins.list[tuple[str, Any]]) -> builtins.list[FileInfo]:
        self._learn_names({a.st_uid for _n, a in entries}, {a.st_gid for _n, a in entries})
        return [_info(directory, name, attrs, self._names) for name, attrs in entries]

    def _learn_names(self, uids: set[int | None], gids: set[int | None]) -> None:
        """Fill the id -> name cache through users-groups-by-id@openssh.com (no ls parsing)."""
        from paramiko.message import Message
        from paramiko.sftp import CMD_EXTENDED

        want_u = sorted(u for u in uids if u is not None and ("user", u) not in self._names)
        want_g = sorted(g for g in gids if g is not None and ("group", g) not in self._names)
        if not (want_u or want_g) or "users-groups-by-id@openssh.com" not in self._extensions:
            return
        packed_u, packed_g = Message(), Message()
        for uid in want_u:
            packed_u.add_int(uid)
        for gid in want_g:
            packed_g.add_int(gid)
        try:
            with self._lock:
                _kind, msg = self._sftp._request(  # type: ignore[attr-defined]
                    CMD_EXTENDED, "users-groups-by-id@openssh.com", packed_u.asbytes(), packed_g.asbytes()
                )
        except OSError:
            self._extensions.discard("users-groups-by-id@openssh.com")
            return
        users, groups = Message(msg.get_binary()), Message(msg.get_binary())
        for uid in want_u:
            self._names[("user", uid)] = users.get_text() or str(uid)
        for gid in want_g:
            self._names[("group", gid)] = groups.get_text() or str(gid)


def _info(directory: str, name: str, attrs: Any, names: dict[tuple[str, int], str]) -> FileInfo:
    mode = attrs.st_mode or 0
    if stat.S_ISDIR(mode):
        kind = FileKind.DIR
    elif stat.S_ISLNK(mode):
        kind = FileKind.SYMLINK
    elif stat.S_ISREG(mode):
        kind = FileKind.FILE
    else:
        kind = FileKind.OTHER
    uid, gid = attrs.st_uid, attrs.st_gid
    return FileInfo(
        name=name,
        path=posixpath.join(directory, name),
        kind=kind,
        size=attrs.st_size,
        mtime=datetime.fromtimestamp(attrs.st_mtime, UTC) if attrs.st_mtime is not None else None,
        mode=mode,
        owner=names.get(("user", uid), str(uid)) if uid is not None else None,
        group=names.get(("group", gid), str(gid)) if gid is not None else None,
    )


def _with_target(info: FileInfo, path: str, target: str | None) -> FileInfo:
    return FileInfo(**{**info.__dict__, "link_target": target})


def _with_path(info: FileInfo, path: str) -> FileInfo:
    return FileInfo(**{**info.__dict__, "path": path})
