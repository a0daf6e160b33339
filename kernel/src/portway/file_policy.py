"""Which server files a connection or channel setting may name.

A setting marked :class:`~portway.settings_marks.FileSetting` (a key file, a
CA file, an ssh config file) makes the server open that file, and a parse
error could show a line of it. So such a path must lie in one of the
``[security] file_roots`` folders, and must never be one of the
environment's own secrets: its keys, settings file, config database, logs
and bytecode cache, whatever ``file_roots`` says. Symbolic links are
resolved and hard links recognised before the check.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portway.environment import Environment

_DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Protected:
    """A file or folder no setting may name, and what it is (for the message)."""

    path: Path
    what: str
    folder: bool = False

    def covers(self, real: Path) -> bool:
        return real == self.path or (self.folder and self.path in real.parents)


@dataclass(frozen=True)
class FilePolicy:
    """The folders file settings may name, and the files they never may."""

    roots: tuple[Path, ...]
    protected: tuple[Protected, ...] = ()
    settings_file: str = "portway.toml"
    # Key and certificate folders (the default roots but ENV): files may be read there, but no
    # folder setting, which moves and deletes what it finds, may name them.
    key_folders: tuple[Path, ...] = ()

    @classmethod
    def of(cls, env: Environment) -> FilePolicy:
        """The policy of ``env``: its ``[security] file_roots`` and its own files."""
        security = env.settings.security
        roots = [_real(env.root / Path(root).expanduser()) for root in security.file_roots]
        if "file_roots" not in security.model_fields_set:
            roots += _certifi_folder()
        from portway.environment import DEFAULT_FILE_ROOTS

        keys = [_real(Path(root).expanduser()) for root in DEFAULT_FILE_ROOTS if root != "."]
        return cls(tuple(roots), _own_files(env), str(env.toml_path), tuple(keys + _certifi_folder()))

    def problem(self, value: str, folder: bool = False) -> str | None:
        """Why ``value`` may not be used as a file setting, or ``None`` when it may.

        A ``folder`` setting (a pickup channel's, which moves and deletes what
        it finds) may also not hold any of the environment's own files.
        """
        given = Path(value).expanduser()
        if not given.is_absolute():
            return (
                f"{value!r} is a relative path; give an absolute one (or one starting with ~/), "
                "so it means the same file wherever the server runs"
            )
        real = _real(given)
        shown = str(given) if real == given else f"{given} (a link to {real})"
        for guarded in self.protected:
            if guarded.covers(real) or _same_file(real, guarded.path):
                return f"{shown} is this environment's {guarded.what}; no setting may name it"
            if folder and real in guarded.path.parents:
                return (
                    f"{shown} holds this environment's {guarded.what}; name a folder of its own "
                    "(e.g. a subfolder) instead"
                )
        if folder and any(real == keys or keys in real.parents for keys in self.key_folders):
            return f"{shown} is a folder of keys or certificates; name a folder of its own"
        if not any(real == root or root in real.parents for root in self.roots):
            allowed = ", ".join(str(root) for root in self.roots) or "none"
            return (
                f"{shown} is outside the folders file settings may name ({allowed}); move it into "
                f"one of them or add the folder to [security] file_roots in {self.settings_file}"
            )
        return None


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _same_file(real: Path, guarded: Path) -> bool:
    """A hard link to a protected file is the protected file under another name."""
    try:
        return os.path.samefile(real, guarded)
    except OSError:
        return False


def _own_files(env: Environment) -> tuple[Protected, ...]:
    root = env.root
    found = [
        Protected(_real(env.secrets_key), "key that decrypts its stored secrets (secrets.key)"),
        Protected(_real(env.admin_key_path), "admin API key (admin.key)"),
        Protected(_real(env.toml_path), "settings file (portway.toml)"),
        Protected(_real(env.lock_path), "server lock file"),
        Protected(_real(env.logs_dir), "log folder (logs/)", folder=True),
        Protected(_real(env.cache_dir), "bytecode cache (cache/)", folder=True),
    ]
    databases = [root / "config.db"]
    url = env.store_url
    if url.startswith("sqlite:///"):
        databases.append(Path(url.removeprefix("sqlite:///").split("?", 1)[0]))
    for database in databases:
        found += [Protected(_real(Path(f"{database}{s}")), "config database") for s in _DATABASE_SUFFIXES]
    return tuple(found)


def _certifi_folder() -> list[Path]:
    """The CA bundle of the ``certifi`` package, when it is installed (found without importing it)."""
    spec = importlib.util.find_spec("certifi")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [_real(Path(location)) for location in spec.submodule_search_locations]
