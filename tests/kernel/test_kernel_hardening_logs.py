"""Issue 13, item 1 and the log Low items: no secret in any log, private log files, rotation by size.

The real server is driven into every 500 it has (a service raising on a
channel, a result no channel can render, the admin API and a console page
failing), logged into with a wrong and a right password, and sent
credentials in headers; then its log is searched for the admin key, the
console cookie, the typed password and a service's local variable.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import structlog
from hardening_kit import (
    PASSWORD,
    Console,
    add_channel,
    add_console_user,
    deep_json,
    new_env,
    running,
    server_log,
    wait_for_log,
)

from portway import logs
from portway.environment import Environment
from portway.serverlock import holder
from portway.testing import ServerHandle

SERVICES = """
from portway import Service

class Boom(Service):
    name = "t.boom"
    def handle(self):
        password = "local-Pa55-in-a-frame"   # a rich traceback with locals printed this
        raise ValueError("failed on purpose")

class DeepOut(Service):
    name = "t.deep-out"
    def handle(self):
        value = []
        for _ in range(3000):
            value = [value]
        self.response.payload = value        # no JSON encoder renders this

class Headers(Service):
    name = "t.headers"
    def handle(self):
        self.response.payload = dict(self.request.headers)
"""


@pytest.fixture
def portway_env(tmp_path: Path) -> Environment:
    return new_env(tmp_path)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_log_lines_have_no_locals_and_mask_credentials() -> None:
    """In-process, as the CLI and the server configure it: structlog events and stdlib records."""
    from portway import redaction

    stream = io.StringIO()
    logs.configure("info", "console", stream=stream)
    redaction.KNOWN.add("known-secret-value-41")

    def fail() -> None:
        password = "local-in-frame-99"  # noqa: F841 - the point: a local that must not be printed
        raise RuntimeError("carrying known-secret-value-41")

    try:
        fail()
    except RuntimeError as exc:
        structlog.get_logger("t").error(
            "failed",
            exc_info=exc,
            headers={"Authorization": "Bearer abc123", "Cookie": "__Host-portway=tok456", "accept": "*/*"},
            body={"user": "ada", "password": "pw789", "nested": [{"api_key": "k000"}]},
            secret_token="t111",
        )
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    text = stream.getvalue()
    assert "Traceback (most recent call last)" in text and "RuntimeError" in text
    for leaked in ("local-in-frame-99", "known-secret-value-41", "abc123", "tok456", "pw789", "k000", "t111"):
        assert leaked not in text, f"{leaked} reached the log:\n{text}"
    assert "*/*" in text and "ada" in text  # the rest is still there


def test_json_log_lines_mask_credentials_too() -> None:
    from portway import redaction

    stream = io.StringIO()
    logs.configure("info", "json", stream=stream)
    structlog.get_logger("t").info("call", headers={"x-api-key": "key-222"}, passwd="p333")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["headers"] == {"x-api-key": redaction.MASK} and line["passwd"] == redaction.MASK


def test_no_secret_in_the_server_log_after_every_500(
    portway_server: ServerHandle, deploy_service: Any
) -> None:
    server, env = portway_server, portway_server.env
    deploy_service("t.py", SERVICES)
    add_channel(server, "boom", "/boom", "t.boom")
    add_channel(server, "deep-out", "/deep-out", "t.deep-out")
    add_channel(server, "log", "/log", "portway.log-message")
    add_console_user(env, "ops")
    secrets = {"the admin key": server.api_key, "the typed password": PASSWORD}

    # A service raising on a channel, and a result no channel can render.
    for path in ("/boom", "/deep-out"):
        status, body = server.request("POST", path, {}, admin=False)
        assert status == 500 and set(body) == {"error", "cid"}, (path, body)
    # Deep JSON in is refused, not a 500.
    status, body = server.request("POST", "/boom", deep_json(5000), admin=False)
    assert status == 400 and "deeper than" in body["error"]
    # The admin API: a raising service, an unrenderable result, deep JSON.
    for name in ("t.boom", "t.deep-out"):
        status, body = server.request("POST", f"/admin/api/services/{name}/invoke", {})
        assert status == 500 and body["cid"], (name, body)
    status, body = server.request("POST", "/admin/api/connections", deep_json(5000))
    assert status == 400 and "deeper than" in body["error"]

    # The console: a wrong password, the right one, then a page that fails.
    console = Console(server.url)
    assert console.log_in("ops", PASSWORD + "-wrong").status_code == 401
    assert console.log_in("ops", PASSWORD).status_code == 303
    secrets["the console cookie"] = console.cookie
    token = console.csrf("/services/t.deep-out")
    failed = console.post("/services/t.deep-out", {"csrf": token, "payload": "{}"})
    assert failed.status_code == 500 and set(failed.json()) == {"error", "cid"}
    assert "Traceback" not in failed.text

    # Credentials in headers: logged by log-message, seen by services called through the admin API.
    credentials = {"authorization": f"Bearer {server.api_key}", "cookie": f"__Host-portway={console.cookie}"}
    assert server.request("POST", "/log", {"hi": 1}, admin=False, headers=credentials)[0] == 200
    assert server.invoke("portway.log-message", {"via": "admin"})["logged"] is True
    seen = server.invoke("t.headers", {})
    assert not {"authorization", "x-api-key", "cookie"} & set(seen), seen

    text = wait_for_log(env, "message_received")
    wait_for_log(env, "request_failed")
    assert "Traceback (most recent call last)" in text and "failed on purpose" in text
    assert "local-Pa55-in-a-frame" not in text, "a traceback printed a local variable"
    for what, value in secrets.items():
        assert value and value not in server_log(env), f"{what} is in the server log"


def test_log_files_and_folder_are_private(portway_server: ServerHandle) -> None:
    env = portway_server.env
    assert _mode(env.logs_dir) == 0o700
    for name in ("server.log", "stderr.log"):
        assert _mode(env.logs_dir / name) == 0o600, name


def test_an_older_wide_log_is_narrowed_at_start(portway_env: Environment) -> None:
    os.chmod(portway_env.logs_dir, 0o755)
    (portway_env.logs_dir / "server.log").write_text("from an older version\n")
    os.chmod(portway_env.logs_dir / "server.log", 0o644)
    with running(portway_env):
        assert _mode(portway_env.logs_dir) == 0o700
        assert _mode(portway_env.logs_dir / "server.log") == 0o600


@pytest.mark.parametrize("key_file", ["admin.key", "secrets.key"])
def test_start_refuses_key_files_others_can_read(portway_env: Environment, key_file: str) -> None:
    path = portway_env.root / key_file
    os.chmod(path, 0o644)
    started = subprocess.run(
        [sys.executable, "-m", "portway.cli", "start", str(portway_env.root), "--wait", "20"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert str(path) in started.stderr and f"chmod 600 {path}" in started.stderr, started.stderr
    assert holder(portway_env.lock_path) is None  # no server was left running


def test_server_log_rotates_by_size(tmp_path: Path) -> None:
    env = new_env(tmp_path, log={"max_bytes": 4096, "backups": 2})
    with running(env) as server:
        for n in range(60):
            server.invoke("portway.log-message", {"n": n, "filler": "x" * 300})
        wait_for_log(env, "'n': 59")
    names = sorted(p.name for p in env.logs_dir.iterdir())
    assert {"server.log", "server.log.1", "server.log.2"} <= set(names), names
    assert "server.log.3" not in names
    for name in ("server.log", "server.log.1", "server.log.2"):
        path = env.logs_dir / name
        assert path.stat().st_size <= 4096 + 2048, name  # one line may carry it past the mark
        assert _mode(path) == 0o600, name
