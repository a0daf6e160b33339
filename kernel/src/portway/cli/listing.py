"""A cache of the commands plugins add, so ``portway --help`` imports no plugin.

Keyed by the state of the installed distributions (see
:func:`current_key`). Only the help listing reads it; running a plugin command always loads
the plugins themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path


def _cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "portway" / "cli-commands.json"


def current_key() -> str:
    """Changes whenever a distribution is installed, removed or upgraded.

    Installing touches the site-packages folder, so the mtimes of the
    ``sys.path`` folders are a key that costs a few ``stat`` calls (no
    import of stevedore or importlib.metadata, which would cost more than
    the listing saves). An editable plugin whose commands change in place
    shows a stale help listing until its next reinstall; running its
    commands always loads the plugins fresh.
    """
    parts = []
    for entry in sys.path:
        try:
            parts.append(f"{entry}={os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(entry)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def read(key: str) -> dict[str, str] | None:
    """Command name -> one-line help, or None when the cache is missing or stale."""
    try:
        data = json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    commands = data.get("commands")
    return commands if isinstance(commands, dict) else None


def write(key: str, commands: dict[str, str]) -> None:
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "commands": commands}))
        tmp.replace(path)
    except OSError:
        return  # a read-only home only costs speed
