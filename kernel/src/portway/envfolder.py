"""Where an environment keeps its files: paths only, no settings, no pydantic.

:class:`~portway.environment.Environment` adds the validated ``portway.toml``;
commands that only touch files (``portway stop`` needs the lock file) use
this and start without paying for the settings models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from portway.errors import ConfigError

DEFAULT_PORT = 17010


@dataclass(frozen=True)
class EnvFolder:
    """An environment folder (``ENV``) and the files in it."""

    root: Path

    @property
    def toml_path(self) -> Path:
        return self.root / "portway.toml"

    @property
    def secrets_key(self) -> Path:
        return self.root / "secrets.key"

    @property
    def admin_key_path(self) -> Path:
        return self.root / "admin.key"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def lock_path(self) -> Path:
        """Held by the running server for its whole life, with its pid inside (see portway.serverlock)."""
        return self.root / "server.lock"


def find(root: str | Path) -> EnvFolder:
    """The environment folder at ``root``; :class:`ConfigError` when there is none."""
    path = Path(root).resolve()
    if not path.is_dir():
        raise ConfigError(str(path), "no such environment; create it with `portway create ENV`")
    folder = EnvFolder(path)
    if not folder.toml_path.is_file():
        raise ConfigError(
            str(folder.toml_path), "missing; is this a portway environment? (`portway create ENV`)"
        )
    return folder
