"""A cache of the commands plugins add, so ``portway --help`` imports no plugin.

Keyed by the installed ``portway.plugins`` entry points and the kernel
version: installing, removing or upgrading a plugin distribution changes the
key. Only the help listing reads it; running a plugin command always loads
the plugins themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

# Equal to portway.plugins.GROUP (a test checks); importing that module would pull in pydantic.
GROUP = "portway.plugins"


def _cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "portway" / "cli-commands.json"


def current_key() -> str:
    from importlib.metadata import version

    from stevedore import ExtensionManager

    manager = ExtensionManager.__new__(ExtensionManager)
    manager.namespace = GROUP
    entries = sorted(f"{ep.name}={ep.value}" for ep in manager.list_entry_points())
    return hashlib.sha256(json.dumps([version("portway"), entries]).encode()).hexdigest()


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
