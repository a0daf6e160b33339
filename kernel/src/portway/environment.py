"""An environment folder (``ENV``) and its ``portway.toml``.

``portway create ENV`` lays out::

    ENV/portway.toml     settings (this module's EnvSettings)
    ENV/secrets.key      Fernet key for secrets at rest (mode 0600)
    ENV/admin.key        API key of the admin REST API (mode 0600)
    ENV/config.db        SQLite config store (unless [store] url says otherwise)
    ENV/cache/           bytecode cache of deployed services
    ENV/logs/            server log
    ENV/services/        the environment's own pickup folder
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from portway.errors import ConfigError

DEFAULT_PORT = 17010


class ServerSection(BaseModel):
    model_config = {"extra": "forbid"}
    host: str = Field("127.0.0.1", description="Address the HTTP server binds to")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="TCP port of the HTTP server")
    drain_s: float = Field(10.0, ge=0, description="How long stop waits for in-flight work")


class StoreSection(BaseModel):
    model_config = {"extra": "forbid"}
    url: str = Field("", description="SQLAlchemy URL; empty means ENV/config.db (SQLite)")


class HotdeploySection(BaseModel):
    model_config = {"extra": "forbid"}
    dirs: list[str] = Field(default_factory=lambda: ["services"], description="Pickup folders")
    import_timeout_s: float = Field(5.0, gt=0, description="Longest a service file may take to import")
    history: int = Field(
        1, ge=0, le=100, description="Earlier versions of each service kept in memory for rollback"
    )
    max_file_bytes: int = Field(
        1 << 20, gt=0, description="Largest service file deployed; a bigger one is refused before compiling"
    )


class PluginsSection(BaseModel):
    model_config = {"extra": "forbid"}
    disabled: list[str] = Field(default_factory=list, description="Plugins not to load")


class ConsoleSection(BaseModel):
    model_config = {"extra": "forbid"}
    enabled: bool = Field(True, description="Serve the web console under /admin")
    second_factor: str = Field("", description="Required second factor, e.g. 'totp'; empty for none")
    session_ttl_s: int = Field(8 * 3600, gt=0, description="Console session lifetime")
    secure_cookies: bool = Field(
        True, description="Mark cookies Secure (browsers accept them on http://localhost too)"
    )


class LogSection(BaseModel):
    model_config = {"extra": "forbid"}
    level: str = Field("info", pattern="^(debug|info|warning|error)$")
    format: str = Field("console", pattern="^(console|json)$")


class EnvSettings(BaseModel):
    """Everything ``portway.toml`` may hold; unknown keys are errors, not ignored."""

    model_config = {"extra": "forbid"}
    server: ServerSection = Field(default_factory=ServerSection)
    store: StoreSection = Field(default_factory=StoreSection)
    hotdeploy: HotdeploySection = Field(default_factory=HotdeploySection)
    plugins: PluginsSection = Field(default_factory=PluginsSection)
    console: ConsoleSection = Field(default_factory=ConsoleSection)
    log: LogSection = Field(default_factory=LogSection)


@dataclass(frozen=True)
class Environment:
    """A loaded environment: its folder and validated settings."""

    root: Path
    settings: EnvSettings

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

    @property
    def store_url(self) -> str:
        return self.settings.store.url or f"sqlite:///{self.root / 'config.db'}"

    @property
    def pickup_dirs(self) -> list[Path]:
        return [(self.root / d).resolve() for d in self.settings.hotdeploy.dirs]

    @property
    def base_url(self) -> str:
        host = self.settings.server.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{host}:{self.settings.server.port}"

    def admin_key(self) -> str:
        try:
            return self.admin_key_path.read_text().strip()
        except OSError as exc:
            raise ConfigError(
                str(self.admin_key_path), f"cannot read the admin API key ({exc.strerror})"
            ) from exc


def load(root: str | Path) -> Environment:
    """Load and validate ``ROOT/portway.toml``; raise :class:`ConfigError` naming the problem."""
    path = Path(root).resolve()
    toml_path = path / "portway.toml"
    if not path.is_dir():
        raise ConfigError(str(path), "no such environment; create it with `portway create ENV`")
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            str(toml_path), "missing; is this a portway environment? (`portway create ENV`)"
        ) from None
    except OSError as exc:
        raise ConfigError(str(toml_path), f"cannot read it: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(toml_path), f"not valid TOML: {exc}") from exc
    try:
        settings = EnvSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{toml_path} [{field}]", first["msg"]) from exc
    return Environment(path, settings)


TEMPLATE = """\
# portway environment settings; see docs/configuration.md
[server]
host = "127.0.0.1"
port = {port}
drain_s = 10

[store]
# empty: SQLite in this folder (config.db); or e.g. "postgresql+psycopg://user@host/db"
url = ""

[hotdeploy]
# pickup folders, relative to this file; .py files dropped here go live at once
dirs = {dirs}
# earlier versions of each service kept for `portway deploy rollback` (none after a delete)
history = 1
# a service file bigger than this is refused before it is compiled
max_file_bytes = 1048576

[plugins]
disabled = []

[console]
enabled = true
# "totp" makes every console login ask for a one-time code (needs portway-totp)
second_factor = ""

[log]
level = "info"
format = "console"
"""


def create(root: str | Path, *, port: int = DEFAULT_PORT, dirs: list[str] | None = None) -> Environment:
    """Make a new environment folder; refuse to touch an existing one."""
    path = Path(root).resolve()
    if (path / "portway.toml").exists():
        raise ConfigError(str(path), "an environment exists here already; pick another folder")
    if path.exists() and any(path.iterdir()):
        raise ConfigError(str(path), "folder is not empty; pick a new or empty folder")
    from portway.encryption import new_key_file

    dirs = dirs or ["services"]
    path.mkdir(parents=True, exist_ok=True)
    for sub in ("cache", "logs"):
        (path / sub).mkdir()
    for folder in dirs:
        (path / folder).mkdir(parents=True, exist_ok=True)
    text = TEMPLATE.format(port=port, dirs="[" + ", ".join(f'"{d}"' for d in dirs) + "]")
    (path / "portway.toml").write_text(text, encoding="utf-8")
    new_key_file(path / "secrets.key")
    write_private(path / "admin.key", secrets.token_urlsafe(32) + "\n")
    env = load(path)
    from portway.store import Store

    Store.open(env).close()
    return env


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600 from the start, no window)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
