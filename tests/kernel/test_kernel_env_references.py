"""``${VAR}`` in settings: syntax and prefix checked when saved, the variable read only when used."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from portway import environment
from portway.environment import Environment
from portway.errors import ConfigError
from portway.runtime import Runtime
from portway.store import StoredItem

SETTINGS = {"host": "127.0.0.1", "port": 7000, "token": "tok"}


@pytest.fixture
def runtime(portway_env: Environment) -> Iterator[Runtime]:
    rt = Runtime(portway_env)
    yield rt
    rt.close()


def test_a_variable_without_the_prefix_is_refused_at_save_by_name(runtime: Runtime) -> None:
    with pytest.raises(
        ConfigError, match=r"setting 'host': \$\{HOME\} names a variable without the prefix PORTWAY_"
    ):
        runtime.catalog.create("connection", "echo", "home", {**SETTINGS, "host": "${HOME}"})
    assert runtime.catalog.list("connection") == []


def test_a_missing_prefixed_variable_is_fine_at_save_and_named_at_use(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTWAY_ECHO_PORT", raising=False)
    view = runtime.catalog.create("connection", "echo", "later", {**SETTINGS, "port": "${PORTWAY_ECHO_PORT}"})
    assert view.settings["port"] == "${PORTWAY_ECHO_PORT}"  # kept as typed, not resolved
    with pytest.raises(ConfigError, match="PORTWAY_ECHO_PORT is not set"):
        runtime.connections.ping("echo", "later")
    monkeypatch.setenv("PORTWAY_ECHO_PORT", "7001")
    assert runtime.catalog.resolve("connection", "echo", "later").port == 7001  # type: ignore[attr-defined]


def test_other_settings_of_an_item_with_references_are_still_checked(runtime: Runtime) -> None:
    with pytest.raises(ConfigError, match="'port'"):
        runtime.catalog.create("connection", "echo", "x", {**SETTINGS, "port": "no", "token": "${PORTWAY_T}"})
    view = runtime.catalog.create(
        "connection", "echo", "y", {**SETTINGS, "port": "7002", "host": "${PORTWAY_H}"}
    )
    assert view.settings["port"] == 7002


def test_a_malformed_reference_is_refused_at_save(runtime: Runtime) -> None:
    with pytest.raises(ConfigError, match=r"starts no valid reference"):
        runtime.catalog.create("connection", "echo", "bad", {**SETTINGS, "host": "${PORTWAY_HOST"})
    literal = runtime.catalog.create("connection", "echo", "lit", {**SETTINGS, "host": "$${HOME}"})
    assert runtime.catalog.resolve("connection", "echo", "lit").host == "${HOME}"  # type: ignore[attr-defined]
    assert literal.name == "lit"


def test_an_item_stored_before_the_rule_cannot_read_other_variables(runtime: Runtime) -> None:
    runtime.store.add(
        StoredItem("connection", "echo", "old", {**SETTINGS, "host": "${HOME}"}, {}, time.time())
    )
    with pytest.raises(ConfigError, match=r"\$\{HOME\} names a variable without the prefix") as caught:
        runtime.connections.ping("echo", "old")
    assert "/root" not in str(caught.value)


def test_the_prefix_is_configurable(portway_env: Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    text = portway_env.toml_path.read_text().replace('env_prefix = "PORTWAY_"', 'env_prefix = "ACME_"')
    portway_env.toml_path.write_text(text)
    rt = Runtime(environment.load(portway_env.root))
    try:
        monkeypatch.setenv("ACME_HOST", "127.0.0.1")
        rt.catalog.create("connection", "echo", "acme", {**SETTINGS, "host": "${ACME_HOST}"})
        assert rt.catalog.resolve("connection", "echo", "acme").host == "127.0.0.1"  # type: ignore[attr-defined]
        with pytest.raises(ConfigError, match="without the prefix ACME_"):
            rt.catalog.create("connection", "echo", "pw", {**SETTINGS, "host": "${PORTWAY_HOST}"})
    finally:
        rt.close()
