"""Key files only their owner may read: written mode 0600 from the start, refused when others may read.

Below both the environment (``admin.key``) and the secret box
(``secrets.key``), so neither has to import the other for it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from portway.errors import ConfigError


def require_private(path: Path) -> None:
    """Raise :class:`ConfigError` when group or others have any access to the key file ``path``."""
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(str(path), f"must be readable by its owner only: chmod 600 {path}")


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600 from the start, no window)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
