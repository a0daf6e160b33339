"""A folder on a file server (SFTP, FTP, any ``portway.files.FileClient``), through the connection's pool.

Each operation borrows a pooled client and gives it back, so a channel
opens no connection per file. An operation that broke its client (the
connection type's ``is_broken``) is tried once more on a fresh one; a
download that fails part way never reaches a service.
"""

from __future__ import annotations

import contextlib
import posixpath
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from portway.declarations import ChannelHost
from portway.files import AlreadyExists, FileClient, NotFound
from portway.pickup.source import Entry

T = TypeVar("T")


class RemoteSource:
    """The folder of a configured file connection (type ``type_name``, name ``connection``)."""

    def __init__(self, host: ChannelHost, type_name: str, connection: str) -> None:
        self.host = host
        self.type_name = type_name
        self.connection: str | None = connection
        self._is_broken = host.connection_type(type_name).is_broken

    def describe(self, path: str) -> str:
        return f"{self.type_name} connection {self.connection!r} {path}"

    def join(self, folder: str, name: str) -> str:
        return posixpath.join(folder, name) if folder else name

    def list(self, folder: str) -> list[Entry]:
        return [
            Entry(
                info.name,
                info.path,
                info.size or 0,
                info.mtime.timestamp() if info.mtime else 0.0,
                info.is_dir,
            )
            for info in self.call(lambda client: client.list(folder))
            if info.name not in (".", "..") and (info.is_file or info.is_dir)
        ]

    def stat(self, path: str) -> Entry | None:
        try:
            info = self.call(lambda client: client.get_info(path))
        except NotFound:
            return None
        mtime = info.mtime.timestamp() if info.mtime else 0.0
        return Entry(posixpath.basename(path), path, info.size or 0, mtime, info.is_dir)

    def read(self, path: str) -> bytes:
        content: bytes = self.call(lambda client: client.read(path))
        return content

    @contextlib.contextmanager
    def local_copy(self, path: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="portway-pickup-") as folder:
            local = Path(folder) / "content"
            self.call(lambda client: client.download_file(path, local))
            yield local

    def rename(self, source: str, target: str) -> None:
        # Some servers replace an existing target on rename; a done file must not overwrite another.
        if self.stat(target) is not None:
            raise AlreadyExists(target, "exists already")
        self.call(lambda client: client.rename(source, target))

    def delete(self, path: str) -> None:
        self.call(lambda client: client.delete_file(path))

    def make_folders(self, folder: str) -> None:
        missing: list[str] = []
        current = folder
        while current not in ("", "/", ".") and self.stat(current) is None:
            missing.append(current)
            current = posixpath.dirname(current)
        for each in reversed(missing):
            self.call(_creating(each))

    def call(self, operation: Callable[[Any], T]) -> T:
        """Run ``operation(client)`` on a pooled client; once more on a fresh one if it broke its client."""
        for attempt in (1, 2):
            try:
                with self.host.borrow(self.type_name, self.connection or "") as client:
                    return operation(client)
            except Exception as exc:
                if attempt == 2 or not self._is_broken(exc):
                    raise
        raise AssertionError("unreachable")


def _creating(folder: str) -> Callable[[FileClient], None]:
    return lambda client: client.create_directory(folder)


def start_remote(
    name: str, settings: Any, host: ChannelHost, type_name: str, source: type[RemoteSource] = RemoteSource
) -> Any:
    """Start a pickup channel on the folder of ``settings.connection``, a connection of ``type_name``.

    ``source`` may be a subclass of :class:`RemoteSource` that does an operation
    its protocol's way (the sftp plugin's moves are one plain rename).
    """
    from portway.pickup.engine import PickupChannel

    host.connection_settings(type_name, settings.connection)  # refuses an unknown connection at start
    folder = source(host, type_name, settings.connection)
    return PickupChannel(name, settings, host, folder, lease_name=f"{type_name}:{name}").start()
