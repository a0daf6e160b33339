"""pytest fixtures for testing services (a pytest plugin, loaded automatically).

A service test in a few lines::

    def test_hello(portway_runtime, deploy_service):
        deploy_service("hello.py", HELLO_SOURCE)
        assert portway_runtime.invoke("hello.hello", {"name": "Ada"}).payload == {"hello": "Ada"}

and against a real server over HTTP::

    def test_over_http(portway_server, deploy_service):
        deploy_service("hello.py", HELLO_SOURCE)
        assert portway_server.invoke("hello.hello", {"name": "Ada"}) == {"hello": "Ada"}

Fixtures: ``portway_env`` (a fresh environment on a free port),
``portway_runtime`` (booted in this process), ``portway_server`` (the real
server in a subprocess, stopped and waited for at teardown),
``deploy_service`` (writes a service file and waits until it is live) and
``portway_cli`` (runs ``portway`` commands in this process).
:func:`allow_files` lets connections of an environment name files in a
test's own temporary folders (key files, CA files); :func:`only_plugins`
loads only the plugins a test names.

For plugin authors, a connection type in a few lines::

    def test_ping_and_action(portway_runtime, my_server):
        create_connection(portway_runtime, "redis", "r1", {"host": "127.0.0.1", "port": my_server.port})
        assert ping(portway_runtime, "redis", "r1") > 0
        assert run_action(portway_runtime, "redis", "r1", "get", {"key": "k"}) == "v"
"""

from __future__ import annotations

import json
import os
import socket
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from portway import environment
from portway.environment import Environment

if TYPE_CHECKING:
    from portway.runtime import Runtime
    from portway.store import StoredItem


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerHandle:
    """A running portway server: its URL and small helpers to call it."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.url = env.base_url
        self.api_key = env.admin_key()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        admin: bool = True,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send a request; return (status, decoded JSON or text). Never raises on HTTP errors."""
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        sent = {"content-type": "application/json", **(headers or {})}
        if admin:
            sent["authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def invoke(self, service: str, payload: Any = None) -> Any:
        """Invoke a service through the admin API; return its payload, fail the test on error."""
        status, body = self.request("POST", f"/admin/api/services/{service}/invoke", payload)
        assert status == 200, f"invoke {service} -> {status}: {body}"
        return body["payload"]


def allow_files(env: Environment, *folders: str | Path) -> Environment:
    """Add ``folders`` to ENV's ``[security] file_roots`` (after the defaults); return ENV reloaded.

    File settings (key files, CA files, known_hosts) may name only files in
    those folders, so a test whose files live in ``tmp_path`` allows it.
    """
    roots = [*env.settings.security.file_roots, *(str(Path(f).resolve()) for f in folders)]
    return _set_line(env, "security", "file_roots", roots)


def only_plugins(env: Environment, *names: str) -> Environment:
    """Disable every installed plugin but ``names`` in ENV's ``[plugins]``; return ENV reloaded.

    The runtime, the server and the CLI of ENV then load only those (and
    the kernel's built-ins): a test of your plugin does not depend on what
    else happens to be installed.
    """
    from portway.plugins import installed_names

    unknown = sorted(set(names) - set(installed_names()))
    if unknown:
        raise ValueError(f"not installed: {', '.join(unknown)}; installed: {', '.join(installed_names())}")
    off = [name for name in installed_names() if name not in names]
    return _set_line(env, "plugins", "disabled", off)


def _set_line(env: Environment, section: str, key: str, value: Any) -> Environment:
    line = f"{key} = " + json.dumps(value)
    lines = env.toml_path.read_text().splitlines()
    header = f"[{section}]"
    if header not in lines:
        lines += ["", header]
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    lines = [
        *lines[:start],
        line,
        *(t for t in lines[start:end] if not t.startswith(f"{key} =")),
        *lines[end:],
    ]
    env.toml_path.write_text("\n".join(lines) + "\n")
    return environment.load(env.root)


def create_connection(
    runtime: Runtime,
    type_name: str,
    name: str,
    settings: Mapping[str, Any],
    pool: Mapping[str, Any] | None = None,
) -> StoredItem:
    """Configure a connection as ``portway conn create`` does: validated whole, secrets sealed.

    ``pool`` takes the pool settings (``size``, ``connect_timeout_s``, ...).
    Returns the stored item as the CLI shows it (secrets masked).
    """
    return runtime.catalog.create("connection", type_name, name, dict(settings), dict(pool or {}))


def ping(runtime: Runtime, type_name: str, name: str) -> float:
    """Open a fresh client, ping it, close it, as ``portway conn ping`` does; return milliseconds.

    Raises :class:`portway.errors.ConnectionFailed` with the reason the user would see.
    """
    return runtime.connections.ping(type_name, name)


def run_action(
    runtime: Runtime, type_name: str, name: str, action: str, arguments: Mapping[str, Any] | None = None
) -> Any:
    """Run one of the type's actions on a pooled client, as the CLI, REST API and console do.

    Returns the result as JSON data (what a user is shown); an unknown or
    bad argument raises :class:`portway.errors.ArgumentError`.
    """
    from portway import actions

    return actions.run(runtime.connections, type_name, name, action, arguments)


@dataclass(frozen=True)
class CliResult:
    """One ``portway`` command run by ``portway_cli``."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        """The ``Error: ...`` line a failed command printed, or ``""``."""
        return next((line for line in self.stderr.splitlines() if line.startswith("Error:")), "")


def run_cli(*args: str | Path | int, input: str | None = None) -> CliResult:
    """Run ``portway ARGS...`` in this process (no interpreter start, about 2 s saved per call).

    The command's logging set-up is undone afterwards, so the test's own stays as it was.
    """
    import logging

    import structlog
    from click.testing import CliRunner

    from portway.cli import cli

    config, root = structlog.get_config(), logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        result = CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)
    finally:
        structlog.configure(**config)
        root.handlers[:] = handlers
        root.setLevel(level)
    return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def portway_cli() -> Callable[..., CliResult]:
    """``portway_cli("conn", "ping", env, "redis", "r1")``: a ``portway`` command run in this process."""
    return run_cli


@pytest.fixture
def portway_env(tmp_path: Path) -> Environment:
    """A new environment in a temporary folder, its server on a free port."""
    return environment.create(tmp_path / "env", port=free_port())


@pytest.fixture
def portway_runtime(portway_env: Environment) -> Iterator[Any]:
    """The environment booted in this process: invoke services with ``.invoke(name, payload)``."""
    from portway.runtime import Runtime

    runtime = Runtime(portway_env)
    runtime.boot()
    yield runtime
    runtime.close()


@pytest.fixture
def portway_server(portway_env: Environment) -> Iterator[ServerHandle]:
    """The real server of ``portway_env``, started in a subprocess and stopped after the test."""
    from portway.cli.env import _start
    from portway.cli.remote import pid_alive, server_pid

    _start(portway_env, wait_s=60)
    try:
        yield ServerHandle(portway_env)
    finally:
        pid = server_pid(portway_env)
        if pid is not None:
            import signal

            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)


@pytest.fixture
def deploy_service(portway_env: Environment, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``deploy_service(filename, source)``: write a service file, return once it is live.

    With ``portway_runtime`` the file is deployed in-process; with
    ``portway_server`` the running server's hot-deployer picks it up.
    """

    def deploy(filename: str, source: str, timeout_s: float = 10.0) -> Path:
        path = portway_env.pickup_dirs[0] / filename
        # Written whole then renamed into place, as editors save: a watching
        # server must never see a half-written file and report it as broken.
        partial = path.with_name(f".{filename}.partial")
        partial.write_text(textwrap.dedent(source))
        os.replace(partial, path)
        if "portway_runtime" in request.fixturenames:
            runtime = request.getfixturevalue("portway_runtime")
            runtime.deployer.deploy(path)
            failure = runtime.deployer.failures.get(str(path))
            assert failure is None, f"deploy failed: {failure}"
        elif "portway_server" in request.fixturenames:
            _wait_live(request.getfixturevalue("portway_server"), path, timeout_s)
        return path

    return deploy


def _wait_live(server: ServerHandle, path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        status, last = server.request("GET", "/admin/api/deploy")
        if status == 200:
            if any(f["path"] == str(path) for f in last["failures"]):
                raise AssertionError(f"deploy of {path} failed: {last['failures']}")
            if any(s["source"] == str(path) for s in last["services"]):
                return
        time.sleep(0.02)
    raise AssertionError(f"{path} did not go live within {timeout_s}s: {last}")
