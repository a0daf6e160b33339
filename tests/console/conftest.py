"""Fixtures for console tests: an environment with TOTP on, an admin user, the real
server (``portway_server`` from portway.testing), Chromium through Playwright, a
real TCP echo server for the example ``echo`` connection type, and the OpenSSH
sshd of the SFTP tests."""

from __future__ import annotations

import importlib.util
import itertools
import socketserver
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_access import ECHO_TOKEN, Admin, add_admin, make_env, running

from portway.environment import Environment
from portway.testing import ServerHandle, allow_files

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _sftp_fixtures() -> Any:
    """The SFTP tests' conftest (real sshd), loaded under its own module name."""
    path = Path(__file__).parent.parent / "sftp" / "conftest.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("portway_sftp_test_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


_sftp = _sftp_fixtures()
if _sftp is not None:
    sshd = _sftp.sshd
else:

    @pytest.fixture(scope="session")
    def sshd() -> Any:
        pytest.skip("the SFTP test fixtures (tests/sftp/conftest.py) are not in this tree")


@pytest.fixture
def portway_env(tmp_path: Path) -> Environment:
    """Overrides portway.testing's: the same, with ``[console] second_factor = "totp"``."""
    return make_env(tmp_path)


@pytest.fixture
def admin(portway_env: Environment) -> Admin:
    return add_admin(portway_env)


@pytest.fixture
def console(portway_server: ServerHandle, admin: Admin) -> str:
    """Base URL of the console of a running server."""
    return portway_server.url + "/admin"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """One server for a whole test module; tests that fail no logins share it (each with its own user)."""
    # Connections made here may name the other fixtures' files (the sshd's keys and known_hosts).
    env = allow_files(make_env(tmp_path_factory.mktemp("shared")), tmp_path_factory.getbasetemp())
    with running(env):
        yield ServerHandle(env)


_users = itertools.count(1)


@pytest.fixture
def shared_admin(shared_server: ServerHandle) -> Admin:
    """A fresh admin user on the shared server, so no test sees another's used codes."""
    return add_admin(shared_server.env, name=f"admin{next(_users)}")


# Browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API runs an event loop on the main
    thread while it lives, which must not leak into other areas' tests."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


# A real TCP echo server for the example plugin's `echo` connection type


class _EchoHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for raw in self.rfile:
            line = raw.decode().rstrip("\n")
            if line.startswith("LOGIN "):
                self.wfile.write(b"OK\n" if line[6:] == ECHO_TOKEN else b"NO bad token\n")
            elif line == "PING":
                self.wfile.write(b"PONG\n")
            elif line.startswith("ECHO "):
                self.wfile.write(line[5:].encode() + b"\n")
            else:
                self.wfile.write(b"ERR unknown command\n")


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = _EchoServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
