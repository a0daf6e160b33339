"""File settings name only files in ``[security] file_roots``, never the environment's own secrets.

The connection type here is a real one registered in-process: it opens the
file its ``key_file`` setting names, as the SFTP and FTP plugins open theirs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from portway import ConnectionType
from portway.environment import Environment
from portway.errors import SettingError
from portway.file_policy import FilePolicy
from portway.plugins import load_plugins
from portway.runtime import Runtime
from portway.settings_marks import FileSetting, file_fields
from portway.store import StoredItem
from portway.testing import allow_files


class KeyedSettings(BaseModel):
    model_config = {"extra": "forbid"}
    key_file: Annotated[str, FileSetting()] = Field(description="A file the client reads when it connects")
    more_files: Annotated[list[str], FileSetting()] = Field(default_factory=list, description="More files")


class KeyedClient:
    def __init__(self, settings: KeyedSettings) -> None:
        self.size = len(Path(settings.key_file).read_bytes())


KEYED = ConnectionType(
    name="keyed", settings=KeyedSettings, connect=KeyedClient, ping=lambda c: None, close=lambda c: None
)


def _runtime(env: Environment) -> Runtime:
    plugins = load_plugins(env.settings.plugins.disabled)
    plugins.connection_types["keyed"] = KEYED
    return Runtime(env, plugins)


@pytest.fixture
def runtime(portway_env: Environment) -> Iterator[Runtime]:
    rt = _runtime(portway_env)
    yield rt
    rt.close()


def _env_files(env: Environment) -> list[Path]:
    (env.logs_dir / "server.log").write_text("log line\n")
    (env.root / "config.db-wal").write_bytes(b"")
    return [
        env.secrets_key,
        env.admin_key_path,
        env.toml_path,
        env.root / "config.db",
        env.root / "config.db-wal",
        env.logs_dir / "server.log",
        env.cache_dir,
    ]


def test_the_environments_own_files_are_refused_and_nothing_is_written(
    runtime: Runtime, portway_env: Environment
) -> None:
    for path in _env_files(portway_env):
        with pytest.raises(SettingError, match="this environment's") as caught:
            runtime.catalog.create("connection", "keyed", "k", {"key_file": str(path)})
        assert caught.value.field == "key_file"
    assert runtime.catalog.list("connection") == []


def test_links_are_followed_before_the_check(
    runtime: Runtime, portway_env: Environment, tmp_path: Path
) -> None:
    allowed = portway_env.root / "keys"
    allowed.mkdir()
    (allowed / "soft").symlink_to(portway_env.secrets_key)
    os.link(portway_env.admin_key_path, allowed / "hard")
    with pytest.raises(SettingError, match="a link to .*secrets.key.*this environment's key"):
        runtime.catalog.create("connection", "keyed", "k", {"key_file": str(allowed / "soft")})
    with pytest.raises(SettingError, match="admin API key"):
        runtime.catalog.create("connection", "keyed", "k", {"key_file": str(allowed / "hard")})
    (tmp_path / "escape").symlink_to("/etc")
    with pytest.raises(SettingError, match="outside the folders"):
        runtime.catalog.create(
            "connection", "keyed", "k", {"key_file": str(allowed.parent / ".." / "escape" / "hostname")}
        )


def test_files_outside_the_roots_and_relative_paths_are_refused(runtime: Runtime) -> None:
    with pytest.raises(SettingError, match=r"/etc/shadow is outside the folders .*\[security\] file_roots"):
        runtime.catalog.create("connection", "keyed", "k", {"key_file": "/etc/shadow"})
    with pytest.raises(SettingError, match=r"more_files.*outside"):
        runtime.catalog.create(
            "connection", "keyed", "k", {"key_file": "~/.ssh/id", "more_files": ["/etc/passwd"]}
        )
    with pytest.raises(SettingError, match="relative path"):
        runtime.catalog.create("connection", "keyed", "k", {"key_file": "keys/id"})


def test_default_roots_are_the_environment_ssh_and_the_ca_store(portway_env: Environment) -> None:
    policy = FilePolicy.of(portway_env)
    for path in (
        portway_env.root / "keys" / "id_ed25519",
        Path("~/.ssh/known_hosts").expanduser(),
        Path("/etc/ssl/certs/ca-certificates.crt"),
        Path("/usr/share/ca-certificates/mozilla/x.crt"),
    ):
        assert policy.problem(str(path)) is None, path


def test_configured_roots_replace_the_defaults(portway_env: Environment, tmp_path: Path) -> None:
    env = allow_files(portway_env, tmp_path / "certs")
    policy = FilePolicy.of(env)
    assert policy.problem(str(tmp_path / "certs" / "ca.pem")) is None
    assert policy.problem(str(tmp_path / "elsewhere.pem")) is not None
    assert "this environment's" in str(policy.problem(str(env.secrets_key)))


def test_an_item_stored_before_the_rule_is_refused_when_used(
    runtime: Runtime, portway_env: Environment
) -> None:
    runtime.store.add(
        StoredItem("connection", "keyed", "old", {"key_file": str(portway_env.secrets_key)}, {}, time.time())
    )
    with pytest.raises(SettingError, match="key_file.*this environment's key") as caught:
        runtime.catalog.resolve("connection", "keyed", "old")
    assert portway_env.secrets_key.read_text().strip() not in str(caught.value)
    with pytest.raises(SettingError, match="this environment's key"):
        runtime.connections.ping("keyed", "old")


def test_a_file_setting_holding_a_reference_is_checked_when_used(
    runtime: Runtime, portway_env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.catalog.create("connection", "keyed", "ref", {"key_file": "${PORTWAY_KEY_FILE}"})
    monkeypatch.setenv("PORTWAY_KEY_FILE", str(portway_env.secrets_key))
    with pytest.raises(SettingError, match="this environment's key"):
        runtime.catalog.resolve("connection", "keyed", "ref")
    good = portway_env.root / "keys.pem"
    good.write_text("key")
    monkeypatch.setenv("PORTWAY_KEY_FILE", str(good))
    assert runtime.connections.ping("keyed", "ref") >= 0


def test_first_party_plugins_mark_their_file_settings() -> None:
    from portway_ftp.settings import FtpSettings
    from portway_ibm_mq.settings import MQConnectionSettings
    from portway_sftp.settings import SftpSettings

    assert set(file_fields(SftpSettings)) == {
        "ssh_config_file",
        "known_hosts_file",
        "private_key_file",
        "ssh_options",
    }
    assert set(file_fields(FtpSettings)) == {"ca_file", "cert_file", "key_file"}
    assert set(file_fields(MQConnectionSettings)) == {"key_repository"}
    options: Any = ["IdentityFile=/etc/key", "Port=22", "UserKnownHostsFile /a /b"]
    assert list(file_fields(SftpSettings)["ssh_options"].paths(options)) == ["/etc/key", "/a", "/b"]
