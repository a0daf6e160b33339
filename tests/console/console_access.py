"""How tests reach the console: an admin user, a browser login, a raw HTTP client, the server log."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp

from portway import environment
from portway.environment import Environment
from portway.testing import free_port

USER = "alice"
PASSWORD = "correct horse battery"
ECHO_TOKEN = "echo-token-42"


@dataclass
class Admin:
    name: str
    password: str
    secret: str

    def code(self, offset_steps: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(time.time() + 30 * offset_steps)


def make_env(tmp_path: Path, second_factor: str = "totp", disabled: tuple[str, ...] = ()) -> Environment:
    env = environment.create(tmp_path / "env", port=free_port())
    text = env.toml_path.read_text()
    text = text.replace('second_factor = ""', f'second_factor = "{second_factor}"')
    text = text.replace("disabled = []", "disabled = [" + ", ".join(f'"{d}"' for d in disabled) + "]")
    env.toml_path.write_text(text)
    return environment.load(env.root)


def add_admin(env: Environment, with_key: bool = True, name: str = USER) -> Admin:
    """Create the admin user as `portway admin create-user` + `reset-totp` would."""
    from portway.console.users import AdminUsers
    from portway.encryption import SecretBox
    from portway.store import Store
    from portway_totp import totp

    store = Store.open(env)
    try:
        users = AdminUsers(store.db, SecretBox(env.secrets_key))
        users.create(name, PASSWORD)
        secret = totp.new_secret() if with_key else ""
        if with_key:
            users.set_factor_secret(name, secret)
    finally:
        store.close()
    return Admin(name, PASSWORD, secret)


def server_log(env: Environment) -> str:
    path = env.logs_dir / "server.log"
    return path.read_text() if path.exists() else ""


def wait_for_log(env: Environment, pattern: str, timeout_s: float = 10.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = server_log(env)
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not in the server log:\n{server_log(env)[-3000:]}")


def log_in(page: Any, console: str, admin: Admin, code: str | None = None) -> None:
    """Password step, then the code step; leaves the page wherever the console sends it."""
    page.goto(console + "/login")
    page.fill("#username", admin.name)
    page.fill("#password", admin.password)
    page.click("button:has-text('Log in')")
    if code is not None or admin.secret:
        page.wait_for_url(re.compile(r".*/login/factor$"))
        page.fill("#code", code if code is not None else admin.code())
        page.click("button:has-text('Verify')")


# Raw HTTP client (cookies by hand: Secure cookies are not sent by httpx over http)


class ConsoleClient:
    """Talks to the console like a browser without one, so tests can send what browsers would not."""

    def __init__(self, console: str, cookie_name: str = "__Host-portway") -> None:
        self.console = console
        self.cookie_name = cookie_name
        self.http = httpx.Client(follow_redirects=False, timeout=30)
        self.cookie = ""

    def _headers(self) -> dict[str, str]:
        return {"cookie": f"{self.cookie_name}={self.cookie}"} if self.cookie else {}

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            match = re.match(re.escape(self.cookie_name) + r"=([^;]*)", header)
            if match:
                self.cookie = match.group(1)
        return response

    def get(self, path: str) -> httpx.Response:
        return self._keep(self.http.get(self.console + path, headers=self._headers()))

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self._keep(self.http.post(self.console + path, data=data, headers=self._headers()))

    def csrf(self, path: str) -> str:
        page = self.get(path)
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path}: {page.status_code} {page.text[:500]}"
        return match.group(1)

    def log_in(self, admin: Admin) -> None:
        token = self.csrf("/login")
        response = self.post("/login", {"csrf": token, "username": admin.name, "password": admin.password})
        assert response.status_code == 303, response.text
        token = self.csrf("/login/factor")
        response = self.post("/login/factor", {"csrf": token, "code": admin.code()})
        assert response.status_code == 303, response.text
        assert response.headers["location"].endswith("/admin/")


def shot(page: Any, name: str) -> None:
    """Save a screenshot for the docs, only when PORTWAY_SCREENSHOTS names a folder (docs/img)."""
    import os

    folder = os.environ.get("PORTWAY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@contextmanager
def running(env: Environment) -> Iterator[None]:
    """The real server of ``env`` (``portway start``'s code path) for the length of the block."""
    from portway.cli.env import _start
    from portway.cli.remote import pid_alive, server_pid

    _start(env, wait_s=60)
    try:
        yield
    finally:
        pid = server_pid(env)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
