"""Config store and catalog: validation, secrets at rest, ${VAR}, nothing written on error."""

from __future__ import annotations

import sqlite3

import pytest

from portway.catalog import MASK
from portway.environment import Environment
from portway.errors import ConfigError, ConflictError, NotFoundError, SettingError
from portway.runtime import Runtime


@pytest.fixture
def runtime(portway_env: Environment) -> Runtime:
    rt = Runtime(portway_env)
    yield rt
    rt.close()


SETTINGS = {"host": "127.0.0.1", "port": 7000, "token": "tok-123"}


def _raw_db(env: Environment) -> str:
    with sqlite3.connect(env.root / "config.db") as db:
        return "\n".join(str(row) for row in db.execute("select * from items"))


def test_secret_is_encrypted_at_rest_and_masked_when_shown(
    runtime: Runtime, portway_env: Environment
) -> None:
    view = runtime.catalog.create("connection", "echo", "one", SETTINGS)
    assert view.settings["token"] == MASK
    assert "tok-123" not in _raw_db(portway_env)
    resolved = runtime.catalog.resolve("connection", "echo", "one")
    assert resolved.token.get_secret_value() == "tok-123"  # type: ignore[attr-defined]
    assert "tok-123" not in repr(resolved)


def test_invalid_setting_names_the_field_and_writes_nothing(
    runtime: Runtime, portway_env: Environment
) -> None:
    with pytest.raises(SettingError) as caught:
        runtime.catalog.create("connection", "echo", "bad", {**SETTINGS, "port": "not-a-port"})
    assert caught.value.field == "port"
    assert "'port'" in str(caught.value)
    assert runtime.catalog.list("connection") == []


def test_unknown_setting_is_rejected_not_ignored(runtime: Runtime) -> None:
    with pytest.raises(SettingError, match="'hots'"):
        runtime.catalog.create("connection", "echo", "typo", {**SETTINGS, "hots": "x"})


def test_missing_required_setting(runtime: Runtime) -> None:
    with pytest.raises(SettingError, match="'token'.*required"):
        runtime.catalog.create("connection", "echo", "x", {"host": "h", "port": 1})


def test_duplicate_name_conflicts(runtime: Runtime) -> None:
    runtime.catalog.create("connection", "echo", "dup", SETTINGS)
    with pytest.raises(ConflictError, match="'dup' exists already"):
        runtime.catalog.create("connection", "echo", "dup", SETTINGS)


def test_unknown_type_lists_installed_types(runtime: Runtime) -> None:
    with pytest.raises(NotFoundError, match="no connection type named 'nope'.*echo"):
        runtime.catalog.create("connection", "nope", "x", {})


def test_env_var_resolved_at_use_and_missing_one_is_an_error(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTWAY_ECHO_TOKEN", "from-env")
    runtime.catalog.create("connection", "echo", "env", {**SETTINGS, "token": "${PORTWAY_ECHO_TOKEN}"})
    assert runtime.catalog.resolve("connection", "echo", "env").token.get_secret_value() == "from-env"  # type: ignore[attr-defined]
    monkeypatch.delenv("PORTWAY_ECHO_TOKEN")
    with pytest.raises(ConfigError, match="PORTWAY_ECHO_TOKEN is not set"):
        runtime.catalog.resolve("connection", "echo", "env")


def test_update_keeps_secret_when_left_empty(runtime: Runtime) -> None:
    runtime.catalog.create("connection", "echo", "u", SETTINGS)
    runtime.catalog.update("connection", "echo", "u", {"timeout_s": 2.5, "token": ""})
    resolved = runtime.catalog.resolve("connection", "echo", "u")
    assert resolved.timeout_s == 2.5  # type: ignore[attr-defined]
    assert resolved.token.get_secret_value() == "tok-123"  # type: ignore[attr-defined]


def test_bad_pool_setting_is_rejected(runtime: Runtime) -> None:
    with pytest.raises(SettingError, match="pool.*'size'"):
        runtime.catalog.create("connection", "echo", "p", SETTINGS, {"size": 0})


def test_missing_secrets_key_is_a_clear_error(portway_env: Environment) -> None:
    portway_env.secrets_key.unlink()
    with pytest.raises(ConfigError, match="secrets key file is missing"):
        Runtime(portway_env)


def test_key_readable_by_others_is_refused(portway_env: Environment) -> None:
    portway_env.secrets_key.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        Runtime(portway_env)


def test_created_key_files_are_private(portway_env: Environment) -> None:
    assert portway_env.secrets_key.stat().st_mode & 0o777 == 0o600
    assert portway_env.admin_key_path.stat().st_mode & 0o777 == 0o600


def test_revision_bumps_on_every_change(runtime: Runtime) -> None:
    before = runtime.store.revision()
    runtime.catalog.create("connection", "echo", "r", SETTINGS)
    runtime.catalog.delete("connection", "echo", "r")
    assert runtime.store.revision() == before + 2
