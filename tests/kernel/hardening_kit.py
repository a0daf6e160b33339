"""What the exposure tests share: settings edits, channels, a console login by raw HTTP, raw sockets."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from portway import environment
from portway.environment import Environment
from portway.testing import ServerHandle, free_port

PASSWORD = "typed-Pa55word-7731"
COOKIE = "__Host-portway"


def new_env(tmp_path: Path, **sections: dict[str, Any]) -> Environment:
    """A fresh environment whose portway.toml has ``sections``' keys set (``server={...}``)."""
    env = environment.create(tmp_path / "env", port=free_port())
    return with_settings(env, **sections)


def with_settings(env: Environment, **sections: dict[str, Any]) -> Environment:
    """Set keys in sections of ``env``'s portway.toml (replacing a key already there); reload."""
    text = env.toml_path.read_text()
    for section, values in sections.items():
        for key, value in values.items():
            line = f"{key} = {json.dumps(value)}"
            pattern = re.compile(rf"^{re.escape(key)} = .*$", re.MULTILINE)
            head = text.index(f"[{section}]\n")
            end = text.find("\n[", head + 1)
            body = text[head : end if end >= 0 else len(text)]
            if pattern.search(body):
                body = pattern.sub(line, body, count=1)
            else:
                body = body.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1)
            text = text[:head] + body + (text[end:] if end >= 0 else "")
    env.toml_path.write_text(text)
    return environment.load(env.root)


@contextmanager
def running(env: Environment) -> Iterator[ServerHandle]:
    """The real server of ``env`` (``portway start``'s code path), stopped with ``portway stop``."""
    from portway.cli.env import _start

    _start(env, wait_s=60)
    try:
        yield ServerHandle(env)
    finally:
        stop(env)


def stop(env: Environment) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "portway.cli", "stop", str(env.root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def add_channel(server: ServerHandle, name: str, path: str, service: str, **settings: Any) -> None:
    body = {"type": "http", "name": name, "settings": {"path": path, "service": service, **settings}}
    status, answer = server.request("POST", "/admin/api/channels", body)
    assert status == 201, answer


def add_console_user(env: Environment, name: str, password: str = PASSWORD) -> None:
    """``portway admin create-user`` as an operator runs it."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "portway.cli",
            "admin",
            "create-user",
            str(env.root),
            name,
            "--password-stdin",
        ],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def server_log(env: Environment) -> str:
    """Everything the server wrote: its (rotated) log and its crash output."""
    parts = [p.read_text(errors="replace") for p in sorted(env.logs_dir.glob("*")) if p.is_file()]
    return "\n".join(parts)


def wait_for_log(env: Environment, needle: str, timeout_s: float = 10.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = server_log(env)
        if needle in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} not in the server log:\n{server_log(env)[-3000:]}")


class Console:
    """The console over raw HTTP; the Secure session cookie is carried by hand, as a browser would."""

    def __init__(self, url: str) -> None:
        self.base = url + "/admin"
        self.http = httpx.Client(follow_redirects=False, timeout=30)
        self.cookie = ""

    def get(self, path: str, timeout: float = 30) -> httpx.Response:
        return self._keep(self.http.get(self.base + path, headers=self._headers(), timeout=timeout))

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self._keep(self.http.post(self.base + path, data=data, headers=self._headers()))

    def csrf(self, path: str) -> str:
        page = self.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, f"no CSRF token on {path}: {page.status_code} {page.text[:300]}"
        return found.group(1)

    def log_in(self, name: str, password: str) -> httpx.Response:
        token = self.csrf("/login")
        return self.post("/login", {"csrf": token, "username": name, "password": password})

    def _headers(self) -> dict[str, str]:
        return {"cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            found = re.match(re.escape(COOKIE) + r"=([^;]*)", header)
            if found:
                self.cookie = found.group(1)
        return response


def connection(server: ServerHandle, timeout: float = 30) -> http.client.HTTPConnection:
    """One keep-alive HTTP/1.1 connection to the server."""
    host, port = server.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def exchange(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn.request(method, path, body=body, headers={"content-type": "application/json", **(headers or {})})
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def raw_socket(server: ServerHandle, timeout: float = 30) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (within the socket's timeout) without sending more."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def read_to_close(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything the server sends on ``sock``, and whether it then closed it (within the timeout)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        return data, True
    except TimeoutError:
        return data, False
    return data, True


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth
