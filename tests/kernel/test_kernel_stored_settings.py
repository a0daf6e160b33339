"""Only what the user set is stored, in the form the model validated it to, from every entry point."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_kernel_cli import ok

from portway.environment import Environment
from portway.errors import SettingError
from portway.runtime import Runtime
from portway.testing import ServerHandle


@pytest.fixture
def runtime(portway_env: Environment) -> Iterator[Runtime]:
    rt = Runtime(portway_env)
    yield rt
    rt.close()


def _stored(env: Environment) -> list[tuple[str, dict[str, object], dict[str, object]]]:
    with sqlite3.connect(env.root / "config.db") as db:
        rows = db.execute("select name, settings, pool from items order by name").fetchall()
    return [(name, json.loads(settings), json.loads(pool)) for name, settings, pool in rows]


def test_values_are_stored_as_validated_and_defaults_are_not_stored(
    runtime: Runtime, portway_env: Environment
) -> None:
    runtime.catalog.create(
        "connection",
        "echo",
        "e",
        {"host": "h", "port": "7000", "token": "t"},
        {"size": True, "check_after_s": "5"},
    )
    ((_, settings, pool),) = _stored(portway_env)
    assert settings["port"] == 7000 and "timeout_s" not in settings
    assert pool == {"size": 1, "check_after_s": 5.0}


def test_pool_values_past_any_sane_bound_are_refused(runtime: Runtime) -> None:
    settings = {"host": "h", "port": 1, "token": "t"}
    with pytest.raises(SettingError, match="pool.*'idle_timeout_s'.*less than or equal"):
        runtime.catalog.create("connection", "echo", "e", settings, {"idle_timeout_s": 18446744073709551617})
    with pytest.raises(SettingError, match="pool.*'borrow_timeout_s'"):
        runtime.catalog.create("connection", "echo", "e", settings, {"borrow_timeout_s": 1e19})


def test_cli_and_rest_store_the_same(portway_server: ServerHandle, portway_env: Environment) -> None:
    ok(
        "conn",
        "create",
        str(portway_env.root),
        "echo",
        "cli",
        "--host",
        "h",
        "--port",
        "7000",
        "--token",
        "t",
    )
    ok(
        "conn",
        "create",
        str(portway_env.root),
        "echo",
        "cli-s",
        "-s",
        "host=h",
        "-s",
        "port=7000",
        "-s",
        "token=t",
    )
    status, body = portway_server.request(
        "POST",
        "/admin/api/connections",
        {"type": "echo", "name": "rest", "settings": {"host": "h", "port": "7000", "token": "t"}},
    )
    assert status == 201, body
    stored = {name: (settings | {"token": "sealed"}, pool) for name, settings, pool in _stored(portway_env)}
    assert (
        stored["cli"]
        == stored["cli-s"]
        == stored["rest"]
        == ({"host": "h", "port": 7000, "token": "sealed"}, {})
    )


def test_enmasse_counts_an_equal_item_as_unchanged(runtime: Runtime, tmp_path: Path) -> None:
    from portway import enmasse

    runtime.catalog.create("connection", "echo", "e", {"host": "h", "port": 1, "token": "t"})
    document = enmasse.Document.model_validate(
        {"connections": [{"type": "echo", "name": "e", "settings": {"host": "h", "port": "1", "token": "t"}}]}
    )
    assert enmasse.plan(runtime.catalog, document).count("unchanged") == 1
