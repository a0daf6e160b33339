"""Issue 18 item 12: portway.testing's helpers for plugin authors do what docs/testing.md says."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from portway.environment import Environment
from portway.errors import ConnectionFailed
from portway.plugins import load_plugins
from portway.runtime import Runtime
from portway.testing import create_connection, only_plugins, ping, run_action, run_cli


def test_only_plugins_loads_just_the_named_ones(portway_env: Environment) -> None:
    env = only_plugins(portway_env, "echo")
    plugins = load_plugins(env.settings.plugins.disabled)
    assert plugins.statuses["echo"].status == "loaded"
    others = {
        name: s.status for name, s in plugins.statuses.items() if name not in ("echo", "builtin_plugin")
    }
    assert others and set(others.values()) == {"disabled"}, others
    runtime = Runtime(env)
    try:
        assert sorted(runtime.plugins.connection_types) == ["echo"]
        assert sorted(runtime.plugins.channel_types) == ["file", "http"]  # the kernel's own stay
    finally:
        runtime.close()
    again = only_plugins(env, "echo", "sftp")  # a second call replaces the list, not appends to it
    assert "sftp" not in again.settings.plugins.disabled and "ftp" in again.settings.plugins.disabled
    with pytest.raises(ValueError, match="not installed: nope"):
        only_plugins(env, "nope")


def test_create_ping_and_run_action(portway_runtime: Any, echo_settings: dict[str, Any]) -> None:
    stored = create_connection(portway_runtime, "echo", "e1", echo_settings, {"size": 2})
    assert stored.settings["token"] == "********" and stored.pool == {"size": 2}
    assert ping(portway_runtime, "echo", "e1") > 0
    assert run_action(portway_runtime, "echo", "e1", "echo", {"text": "hi", "times": 2}) == "hi hi"
    create_connection(portway_runtime, "echo", "bad", {**echo_settings, "token": "wrong"})
    with pytest.raises(ConnectionFailed, match="login refused"):
        ping(portway_runtime, "echo", "bad")


def test_run_cli_runs_in_this_process_and_leaves_logging_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from portway import cli

    monkeypatch.setitem(cli.SUMMARIES, "status", "Seen only by a command run in this very process.")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    result = run_cli("--help")
    assert result.exit_code == 0 and "Seen only by a command run in this very process." in result.stdout
    assert root.handlers == handlers and root.level == level
    failed = run_cli("conn", "list", "/no/such/env")
    assert failed.exit_code == 1 and failed.error.startswith("Error: ")
