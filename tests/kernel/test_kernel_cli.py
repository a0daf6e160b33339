"""The CLI as a user runs it (subprocesses): happy paths and one-line errors that write nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portway.testing import free_port


def run(
    *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portway.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        input=input,
    )


def ok(*args: str, **kwargs: Any) -> str:
    result = run(*args, **kwargs)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


def fails(*args: str, **kwargs: Any) -> str:
    result = run(*args, **kwargs)
    assert result.returncode != 0, f"{args} should fail: {result.stdout}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error:"), result.stderr
    assert "Traceback" not in result.stderr
    return lines[-1]


@pytest.fixture
def env(tmp_path: Path) -> Path:
    path = tmp_path / "env"
    ok("create", str(path), "--port", str(free_port()))
    return path


def test_create_refuses_an_existing_environment(env: Path) -> None:
    assert "exists here already" in fails("create", str(env))


def test_conn_lifecycle_with_options_from_the_settings_model(
    env: Path, echo_settings: dict[str, Any]
) -> None:
    help_text = ok("conn", "create", str(env), "echo", "--help")
    assert "--host" in help_text and "Server host name or address" in help_text and "--pool-size" in help_text
    ok(
        "conn",
        "create",
        str(env),
        "echo",
        "e1",
        "--host",
        "127.0.0.1",
        "--port",
        str(echo_settings["port"]),
        "--token",
        str(echo_settings["token"]),
        "--pool-size",
        "2",
    )
    listed = json.loads(ok("conn", "list", str(env), "--json"))
    assert [(i["type"], i["name"], i["settings"]["token"], i["pool"]) for i in listed] == [
        ("echo", "e1", "********", {"size": 2})
    ]
    assert str(echo_settings["token"]) not in ok("conn", "show", str(env), "echo", "e1")
    assert ok("conn", "ping", str(env), "echo", "e1").startswith("OK ")
    assert ok("conn", "action", str(env), "echo", "e1", "echo", "--arg", "text=hello").strip() == "hello"
    ok("conn", "update", str(env), "echo", "e1", "--token", "wrong")
    result = run("conn", "ping", str(env), "echo", "e1")
    assert result.returncode == 1 and "login refused" in result.stderr
    ok("conn", "delete", str(env), "echo", "e1")
    assert json.loads(ok("conn", "list", str(env), "--json")) == []


def test_conn_errors_are_one_line_and_write_nothing(env: Path) -> None:
    assert "No such command 'nope'" in run("conn", "create", str(env), "nope", "x").stderr
    assert "setting 'port'" in fails(
        "conn", "create", str(env), "echo", "x", "--host", "h", "--port", "0", "--token", "t"
    )
    assert "setting 'token': required" in fails(
        "conn", "create", str(env), "echo", "x", "--host", "h", "--port", "1"
    )
    assert "setting 'hots'" in fails("conn", "create", str(env), "echo", "x", "--setting", "hots=h")
    assert "${NOPE_VAR} names a variable without the prefix PORTWAY_" in fails(
        "conn", "create", str(env), "echo", "x", "--host", "${NOPE_VAR}", "--port", "1", "--token", "t"
    )
    assert json.loads(ok("conn", "list", str(env), "--json")) == []
    ok("conn", "create", str(env), "echo", "x", "--host", "h", "--port", "1", "--token", "t")
    assert "exists already" in fails(
        "conn", "create", str(env), "echo", "x", "--host", "h", "--port", "1", "--token", "t"
    )
    assert "no echo connection named 'y'" in fails("conn", "show", str(env), "echo", "y")


def test_channel_create_and_invoke_in_process(env: Path) -> None:
    (env / "services" / "hi.py").write_text(
        "from portway import Service\n"
        "class Hi(Service):\n"
        "    def handle(self):\n"
        "        self.response.payload = {'hi': self.request.payload}\n"
    )
    ok("channel", "create", str(env), "http", "hi", "--path", "/hi", "--service", "hi.hi")
    assert "path=/hi, service=hi.hi" in ok("channel", "list", str(env))
    assert "must start with '/'" in fails(
        "channel", "create", str(env), "http", "bad", "--path", "x", "--service", "s"
    )
    assert json.loads(ok("invoke", str(env), "hi.hi", "--payload", '{"a": 1}')) == {"hi": {"a": 1}}
    assert "--payload: not valid JSON" in fails("invoke", str(env), "hi.hi", "--payload", "{bad")
    assert "no service named 'nope.x'" in fails("invoke", str(env), "nope.x")


def test_unreadable_or_invalid_toml_is_named(env: Path) -> None:
    toml = env / "portway.toml"
    toml.write_text(toml.read_text() + "\n[server\n")
    assert "portway.toml: not valid TOML" in fails("conn", "list", str(env))
    toml.write_text("[server]\nprot = 1\n")
    assert "[server.prot]" in fails("conn", "list", str(env))
    assert "no such environment" in fails("status", str(env / "missing"))


def test_missing_secrets_key(env: Path) -> None:
    (env / "secrets.key").unlink()
    # Listing shows masked secrets and needs no key; anything that seals or opens one does.
    assert "secrets key file is missing" in fails("conn", "ping", str(env), "echo", "anything")


def test_start_status_stop(env: Path) -> None:
    ok("start", str(env))
    try:
        assert "already running" in fails("start", str(env))
        status = json.loads(ok("status", str(env), "--json"))
        assert status["running"] is True and status["services"] >= 2
    finally:
        assert "Stopped" in ok("stop", str(env))
    assert run("status", str(env)).returncode == 3
    assert "not running" in ok("stop", str(env))


def test_start_reports_a_port_in_use(env: Path, tmp_path: Path) -> None:
    import socket

    toml = env / "portway.toml"
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        toml.write_text(toml.read_text().replace("port = ", f"port = {port}\n# was: port = ", 1))
        message = run("start", str(env))
    assert message.returncode == 1
    assert "exited at start" in message.stderr and "address already in use" in message.stderr.lower()
