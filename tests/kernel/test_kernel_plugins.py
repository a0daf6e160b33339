"""Plugin discovery: entry points, failure isolation, disabling, conflicts, the report."""

from __future__ import annotations

import json
import subprocess
import sys
import types

from portway import ConnectionType, hookimpl
from portway.plugins import _collect, _register, load_plugins


def test_example_plugin_loads_and_declares_echo() -> None:
    plugins = load_plugins()
    assert plugins.statuses["echo"].status == "loaded"
    assert plugins.statuses["echo"].contributes == ("connection:echo",)
    assert "echo" in plugins.connection_types


def test_broken_plugin_is_failed_with_reason_and_others_load() -> None:
    plugins = load_plugins()
    broken = plugins.statuses["broken"]
    assert broken.status == "failed"
    assert "portway_broken_plugin_missing_dependency" in broken.reason
    assert broken.label.startswith("failed: import: ModuleNotFoundError")
    assert plugins.statuses["builtin_plugin"].status == "loaded"
    assert "http" in plugins.channel_types


def test_disabled_plugin_is_not_imported() -> None:
    sys.modules.pop("portway_example_conn.plugin", None)
    plugins = load_plugins(disabled=["echo"])
    assert plugins.statuses["echo"].status == "disabled"
    assert "echo" not in plugins.connection_types
    assert "portway_example_conn.plugin" not in sys.modules


def _module(name: str, **hooks: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))  # type: ignore[call-overload]
    return module


def _declaration(name: str) -> ConnectionType:
    from pydantic import BaseModel

    return ConnectionType(
        name=name, settings=BaseModel, connect=lambda s: s, ping=lambda c: None, close=lambda c: None
    )


def test_hook_that_raises_fails_only_its_plugin() -> None:
    plugins = load_plugins()

    def explode() -> list[ConnectionType]:
        raise RuntimeError("boom")

    _register(plugins, "exploding", _module("exploding", portway_connection_types=explode))
    _register(plugins, "fine", _module("fine", portway_connection_types=lambda: [_declaration("fine_type")]))
    plugins.connection_types.clear()
    plugins.owners.clear()
    _collect(plugins)
    assert plugins.statuses["exploding"].status == "failed"
    assert "RuntimeError: boom" in plugins.statuses["exploding"].reason
    assert "fine_type" in plugins.connection_types
    assert "echo" in plugins.connection_types


def test_duplicate_type_name_fails_the_second_plugin_naming_both() -> None:
    plugins = load_plugins()
    _register(plugins, "copycat", _module("copycat", portway_connection_types=lambda: [_declaration("echo")]))
    plugins.connection_types.clear()
    plugins.owners.clear()
    _collect(plugins)
    status = plugins.statuses["copycat"]
    assert status.status == "failed"
    assert "'echo' is already declared by plugin 'echo'" in status.reason
    assert plugins.connection_types["echo"].summary.startswith("Example")


def test_startup_hook_failure_is_isolated() -> None:
    plugins = load_plugins()

    def bad_startup(server: object) -> None:
        raise ValueError("no")

    _register(plugins, "bad_start", _module("bad_start", portway_startup=bad_startup))
    plugins.call_each("portway_startup", server=None)
    assert plugins.statuses["bad_start"].label == "failed: portway_startup: ValueError: no"


def test_plugins_command_lists_status_as_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "portway.cli", "plugins", "--json"], capture_output=True, text=True, check=True
    )
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["echo"]["distribution"] == "portway-example-conn"
    assert rows["echo"]["version"] == "0.1.0"
    assert rows["echo"]["status"] == "loaded"
    assert rows["broken"]["status"].startswith("failed: import")
    assert rows["builtin_plugin"]["contributes"] == ["channel:http", "channel:file"]


def test_cli_help_lists_plugin_commands_without_failing_on_broken_plugin() -> None:
    out = subprocess.run([sys.executable, "-m", "portway.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "conn" in out.stdout and "plugins" in out.stdout
