"""The service files under a pickup folder, reusing a folder's listing while the folder is unchanged.

Creating, deleting or renaming an entry changes its folder's mtime and
ctime, so a folder whose stat signature is the one recorded when it was
listed still holds the same names: a boot reuses the recorded listing
instead of reading the folder again, as git's untracked cache does. A
change inside a subfolder changes only that subfolder, which has a record
of its own. A listing is not recorded when the folder changed within the
racy window (``RACY_NS``, see :mod:`portway.hotdeploy.cache`), nor when it
holds a symlink, whose target can turn from a file into a folder without
the folder noticing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import structlog

from portway.hotdeploy.cache import Listing, signature

log = structlog.get_logger("portway.hotdeploy")


def is_service_path(path: str) -> bool:
    """Whether a path can be a service file: ``*.py``, not hidden, not an editor's temp or lock file."""
    name = os.path.basename(path)
    return name.endswith(".py") and not name.startswith((".", "#", "~")) and "__pycache__" not in path


class Scanner:
    """Lists service files; reuses the listings in ``known`` and records fresh ones in ``listings``."""

    def __init__(self, known: dict[str, Listing] | None = None) -> None:
        self.known = known or {}
        self.listings: dict[str, Listing] = {}
        self.reused = 0  # folders not read again

    @property
    def changed(self) -> bool:
        """Whether the listings to keep differ from the known ones."""
        return self.listings.keys() != self.known.keys() or self.reused != len(self.known)

    def scan(self, folder: Path | str) -> list[str]:
        """Every service file under ``folder``, sorted; hidden folders and ``__pycache__`` skipped."""
        found: list[str] = []
        stack = [str(folder)]
        while stack:
            current = stack.pop()
            listed = self._listing(current)
            if listed is not None:
                found.extend(listed[0])
                stack.extend(listed[1])
        found.sort()
        return found

    def _listing(self, folder: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        try:
            st = os.stat(folder)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            log.warning("pickup_folder_unreadable", path=folder, error=exc.strerror)
            return None
        known = self.known.get(folder)
        if known is not None and known[0] == (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            self.listings[folder] = known
            self.reused += 1
            return known[1], known[2]
        listed_at = time.time_ns()
        result = _read_folder(folder)
        if result is None:
            return None
        files, folders, has_links = result
        sig = None if has_links else signature(st, listed_at)
        if sig is not None:
            self.listings[folder] = (sig, files, folders)
        return files, folders


def _read_folder(folder: str) -> tuple[tuple[str, ...], tuple[str, ...], bool] | None:
    """(service files, subfolders to descend, whether any entry is a symlink), or None if unreadable."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        log.warning("pickup_folder_unreadable", path=folder, error=exc.strerror)
        return None
    files: list[str] = []
    folders: list[str] = []
    has_links = False
    for entry in entries:
        name = entry.name
        if name.startswith(".") or name == "__pycache__":
            continue
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()
        except OSError:
            is_link = is_dir = False
        has_links = has_links or is_link
        if is_dir:
            if not is_link:  # a symlinked folder could loop; files may be symlinks
                folders.append(entry.path)
        elif name.endswith(".py") and not name.startswith(("#", "~")):
            files.append(entry.path)
    return tuple(files), tuple(folders), has_links


def scan(folder: Path | str) -> list[str]:
    """Every service file under ``folder`` (a fresh listing, nothing reused or recorded)."""
    return Scanner().scan(folder)
