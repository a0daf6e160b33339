"""Listing a pickup channel's folder: the files a poll may take, and the repository key of each."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from portway.pickup.names import TAKING_SUFFIX, printable
from portway.pickup.settings import PickupSettings
from portway.pickup.source import Entry, Source


class Found(NamedTuple):
    """A file a poll may take: its entry, its path below the folder, the folder's other names.

    A named tuple, as :class:`~portway.pickup.source.Entry`: one per listed file on every poll.
    """

    entry: Entry
    relpath: str
    siblings: frozenset[str]


def scan(source: Source, settings: PickupSettings, taking: bool = False) -> list[Found]:
    """The files of the folder (and its subfolders when recursive) the channel takes.

    With ``taking``, instead, the files left under their in-progress name
    (``rename`` read lock) by a server that died holding them.
    """
    found: list[Found] = []
    folders = [(settings.folder, "")]
    while folders:
        folder, prefix = folders.pop()
        entries = source.list(folder)
        names = frozenset(e.name for e in entries)
        for entry in entries:
            relpath = prefix + entry.name
            if entry.is_dir:
                if settings.recursive and not entry.name.startswith("."):
                    folders.append((entry.path, relpath + "/"))
            elif taking:
                if entry.name.endswith(TAKING_SUFFIX):
                    found.append(Found(entry, relpath, names))
            elif settings.takes(relpath):
                found.append(Found(entry, relpath, names))
    return found


def key_of(found: Found, content: bytes | None = None) -> str:
    """The file's idempotent repository key: path+size+mtime, or with ``content`` its SHA-256."""
    if content is not None:
        return "sha256:" + hashlib.sha256(content).hexdigest()
    entry = found.entry
    return f"{printable(found.relpath)}|{entry.size}|{entry.mtime:.6f}"
