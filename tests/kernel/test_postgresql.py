"""The config store on a real PostgreSQL server (a throwaway cluster started by the test)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from portway import environment
from portway.changes import ChangeListener
from portway.cli.remote import pid_alive, server_pid
from portway.errors import ConflictError
from portway.runtime import Runtime
from portway.server.app import CONFIG_POLL_LISTENING_S
from portway.testing import ServerHandle, free_port


def _env_on(tmp_path: Path, name: str, url: str, key_from: Path | None = None) -> environment.Environment:
    env = environment.create(tmp_path / name, port=free_port())
    toml = env.toml_path
    toml.write_text(toml.read_text().replace('url = ""', f'url = "{url}"'))
    if key_from is not None:  # servers sharing a store share its secrets key
        env.secrets_key.write_bytes(key_from.read_bytes())
    return environment.load(env.root)


def test_two_servers_share_one_postgresql_store(
    pg_url: str, tmp_path: Path, echo_settings: dict[str, Any]
) -> None:
    first = Runtime(_env_on(tmp_path, "a", pg_url))
    second = Runtime(_env_on(tmp_path, "b", pg_url, key_from=first.env.secrets_key))
    try:
        second.refresh(force=True)
        first.catalog.create("connection", "echo", "shared", echo_settings)
        assert second.refresh() is True
        resolved = second.catalog.resolve("connection", "echo", "shared")
        assert resolved.token.get_secret_value() == echo_settings["token"]  # type: ignore[attr-defined]
        assert second.connections.ping("echo", "shared") > 0
        first.catalog.delete("connection", "echo", "shared")
        assert second.catalog.list("connection") == []
    finally:
        first.close()
        second.close()


def _wait_until(check: Any, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError(f"not reached within {timeout_s}s")


def test_a_committed_write_notifies_listeners_and_a_failed_one_does_not(
    pg_url: str, tmp_path: Path, echo_settings: dict[str, Any]
) -> None:
    writer = Runtime(_env_on(tmp_path, "w", pg_url))
    heard: list[float] = []
    listener = ChangeListener(writer.store.db, lambda: heard.append(time.monotonic()))
    listener.start()
    try:
        _wait_until(listener.listening.is_set)
        _wait_until(lambda: len(heard) >= 1)  # the catch-up call made on connecting
        before = len(heard)
        writer.catalog.create("connection", "echo", "n1", echo_settings)
        with pytest.raises(ConflictError):  # rolled back: must not notify
            writer.catalog.create("connection", "echo", "n1", echo_settings)
        writer.catalog.delete("connection", "echo", "n1")
        _wait_until(lambda: len(heard) >= before + 2)
        assert len(heard) == before + 2  # notifications arrive in order: none came from the failure
    finally:
        listener.stop()
        writer.close()
    assert not listener.listening.is_set()


def test_a_server_hears_of_a_channel_created_by_another_writer(pg_url: str, tmp_path: Path) -> None:
    """The server polls a PostgreSQL store only every 30 s: serving within seconds means it was notified."""
    from portway.cli.env import _start

    env = _env_on(tmp_path, "server", pg_url)
    other = Runtime(_env_on(tmp_path, "other", pg_url, key_from=env.secrets_key))
    _start(env, wait_s=60)
    server = ServerHandle(env)
    try:
        _wait_until(lambda: _log_has(env, "config_listening"))
        other.catalog.create("channel", "http", "pinged", {"path": "/notified", "service": "portway.ping"})
        started = time.monotonic()
        _wait_until(lambda: server.request("POST", "/notified", {}, admin=False)[0] == 200, timeout_s=20)
        assert time.monotonic() - started < CONFIG_POLL_LISTENING_S / 2, "the change came by polling"
    finally:
        other.close()
        pid = server_pid(env)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            _wait_until(lambda: not pid_alive(pid), timeout_s=60)


def _log_has(env: environment.Environment, event: str) -> bool:
    return any(event in p.read_text(errors="replace") for p in env.logs_dir.glob("*.log"))
