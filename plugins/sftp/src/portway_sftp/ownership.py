"""Permissions and owners: chmod, and chown/chgrp by name or id (names looked up on the server)."""

from __future__ import annotations

import shlex

from portway.files import NotFound, Unsupported, parse_mode
from portway_sftp.connection import SftpConnection


class Ownership(SftpConnection):
    """``chmod``, ``chown`` and ``chgrp`` of the file API."""

    def chmod(self, mode: str | int, remote: str) -> None:
        """Set permissions from an octal string (``"640"``) or an int (``0o640``)."""
        value = parse_mode(mode)
        path = self._abs(remote)
        self._call(path, lambda: self._sftp.chmod(path, value))

    def chown(self, owner: str | int, remote: str) -> None:
        """Change the owner, by user name or numeric id (the group is kept)."""
        path = self._abs(remote)
        uid = self._resolve_id("user", owner, path)
        attrs = self._call(path, lambda: self._sftp.stat(path))
        self._call(path, lambda: self._sftp.chown(path, uid, attrs.st_gid or 0))

    def chgrp(self, group: str | int, remote: str) -> None:
        """Change the group, by group name or numeric id (the owner is kept)."""
        path = self._abs(remote)
        gid = self._resolve_id("group", group, path)
        attrs = self._call(path, lambda: self._sftp.stat(path))
        self._call(path, lambda: self._sftp.chown(path, attrs.st_uid or 0, gid))

    def _resolve_id(self, kind: str, value: str | int, path: str) -> int:
        """A numeric id as is; a name via ``id``/``getent`` on the server (SFTP has no lookup)."""
        if isinstance(value, int) or str(value).isdigit():
            return int(value)
        for key, name in self._names.items():
            if key[0] == kind and name == value:
                return key[1]
        command = f"id -u {shlex.quote(value)}" if kind == "user" else f"getent group {shlex.quote(value)}"
        output = self._run_command(command, path)
        text = output.strip().split(":")[2] if kind == "group" and output.count(":") >= 2 else output.strip()
        if not text.isdigit():
            raise NotFound(path, f"the server knows no {kind} named {value!r}")
        self._names[(kind, int(text))] = value
        return int(text)

    def _run_command(self, command: str, path: str) -> str:
        try:
            channel = self.transport.open_session(timeout=self.settings.timeout)
        except Exception as exc:
            raise Unsupported(
                path, f"cannot look up names on this server ({exc}); pass a numeric id"
            ) from exc
        try:
            channel.settimeout(self.settings.timeout)
            channel.exec_command(command)
            output = channel.makefile("rb").read().decode(errors="replace")
            status = channel.recv_exit_status()
        except Exception as exc:
            raise Unsupported(
                path, f"cannot look up names on this server ({exc}); pass a numeric id"
            ) from exc
        finally:
            channel.close()
        if status not in (0, 1, 2):
            raise Unsupported(path, "the server does not allow commands to look up names; pass a numeric id")
        return output
