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

import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from portway.envfolder import DEFAULT_PORT, EnvFolder
from portway.errors import ConfigError
from portway.keyfiles import require_private, write_private

__all__ = ["require_private", "write_private"]  # kept importable from here for older callers

MIB = 1024 * 1024


class ServerSection(BaseModel):
    model_config = {"extra": "forbid"}
    host: str = Field("127.0.0.1", description="Address the HTTP server binds to")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="TCP port of the HTTP server")
    drain_s: float = Field(10.0, ge=0, description="How long stop waits for in-flight work")
    # Exposure: limits and trust (docs/security.md)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For/-Proto are believed; empty: none",
    )
    max_body_bytes: int = Field(10 * MIB, ge=1, description="Largest request body an HTTP channel takes")
    admin_max_body_bytes: int = Field(
        MIB, ge=1, description="Largest request body the admin API and console take"
    )
    max_json_depth: int = Field(64, ge=1, le=500, description="Deepest nesting of a JSON request body")
    service_threads: int = Field(40, ge=1, le=10_000, description="Threads that run sync services at once")
    service_timeout_s: float = Field(60.0, gt=0, description="Longest a service call may take (504 after)")
    keep_alive_s: int = Field(5, ge=1, description="How long an idle keep-alive connection stays open")
    read_timeout_s: float = Field(
        10.0, gt=0, description="Longest wait for a request's headers, or between parts of its body"
    )


class StoreSection(BaseModel):
    model_config = {"extra": "forbid"}
    url: str = Field("", description="sqlite:///PATH or postgresql://user@host/db; empty means ENV/config.db")


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
    publish: bool = Field(
        False,
        description="A save in a pickup folder publishes to the store, which every server deploys "
        "(PostgreSQL store only; see docs/cluster.md)",
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
    # Rotation of ENV/logs/server.log (docs/security.md)
    max_bytes: int = Field(10 * MIB, ge=4096, description="Size at which server.log is rotated")
    backups: int = Field(5, ge=1, le=1000, description="Rotated files kept: server.log.1 ... .N")


class MetricsSection(BaseModel):
    model_config = {"extra": "forbid"}
    enabled: bool = Field(True, description="Count calls, messages and pool use; serve GET /metrics")
    public: bool = Field(False, description="Serve /metrics on the main listener without the admin API key")
    bind: str = Field(
        "",
        pattern=r"^(|[^\s:]*:\d{1,5})$",
        description="HOST:PORT of a listener of its own for /metrics, no key needed there; empty: none",
    )


DEFAULT_FILE_ROOTS = (".", "~/.ssh", "/etc/ssl/certs", "/usr/share/ca-certificates", "/etc/pki/tls/certs")


class SecuritySection(BaseModel):
    model_config = {"extra": "forbid"}
    file_roots: list[str] = Field(
        default_factory=lambda: list(DEFAULT_FILE_ROOTS),
        description="Folders that file settings (key, CA, ssh config files) may name; relative to ENV",
    )
    env_prefix: str = Field(
        "PORTWAY_",
        pattern="^([A-Za-z_][A-Za-z0-9_]*)?$",
        description="${VAR} in settings may name only variables starting with this; empty: any",
    )


class EnvSettings(BaseModel):
    """Everything ``portway.toml`` may hold; unknown keys are errors, not ignored."""

    model_config = {"extra": "forbid"}
    server: ServerSection = Field(default_factory=ServerSection)
    store: StoreSection = Field(default_factory=StoreSection)
    hotdeploy: HotdeploySection = Field(default_factory=HotdeploySection)
    plugins: PluginsSection = Field(default_factory=PluginsSection)
    console: ConsoleSection = Field(default_factory=ConsoleSection)
    log: LogSection = Field(default_factory=LogSection)
    security: SecuritySection = Field(default_factory=SecuritySection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)


@dataclass(frozen=True)
class Environment(EnvFolder):
    """A loaded environment: its folder (and the paths of :class:`EnvFolder`) and validated settings."""

    settings: EnvSettings

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
        """The admin API key; refused when anyone but its owner may read the file."""
        try:
            require_private(self.admin_key_path)
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
    env = Environment(path, settings)
    if settings.hotdeploy.publish and not env.store_url.startswith("postgres"):
        raise ConfigError(
            f"{toml_path} [hotdeploy.publish]",
            "publishing needs a PostgreSQL store, which the servers of a cluster share; set "
            '[store] url = "postgresql://..." or remove publish = true (see docs/cluster.md)',
        )
    return env


TEMPLATE = """\
# portway environment settings; see docs/configuration.md
[server]
host = "127.0.0.1"
port = {port}
drain_s = 10
# addresses of reverse proxies allowed to set X-Forwarded-For/-Proto; see docs/security.md
trusted_proxies = []

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
# publish = true: a save in these folders publishes to the store, deployed by every server
# sharing it (PostgreSQL store only; see docs/cluster.md)

[plugins]
disabled = []

[console]
enabled = true
# "totp" makes every console login ask for a one-time code (needs portway-totp)
second_factor = ""

[log]
level = "info"
format = "console"
# server.log is rotated at max_bytes, keeping `backups` older files
max_bytes = {log_max_bytes}
backups = 5

[security]
# folders that file settings (key, CA, known_hosts, ssh config files) may name; "." is this
# folder (its keys, config, database, logs and cache are always refused); default:
# file_roots = [".", "~/.ssh", "/etc/ssl/certs", "/usr/share/ca-certificates", "/etc/pki/tls/certs"]
# ${{VAR}} in connection and channel settings may name only variables with this prefix
env_prefix = "PORTWAY_"

[metrics]
# GET /metrics in the Prometheus text format, and the console's statistics; see docs/observability.md
enabled = true
# true: /metrics on the main listener answers without the admin API key
public = false
# HOST:PORT of a listener of its own for /metrics only (no key asked there); empty: none
bind = ""
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
    (path / "cache").mkdir()
    (path / "logs").mkdir(mode=0o700)  # the log may name users and clients: the owner's only
    for folder in dirs:
        (path / folder).mkdir(parents=True, exist_ok=True)
    text = TEMPLATE.format(
        port=port, dirs="[" + ", ".join(f'"{d}"' for d in dirs) + "]", log_max_bytes=10 * MIB
    )
    (path / "portway.toml").write_text(text, encoding="utf-8")
    new_key_file(path / "secrets.key")
    write_private(path / "admin.key", secrets.token_urlsafe(32) + "\n")
    env = load(path)
    from portway.store import Store

    Store.open(env).close()
    return env
