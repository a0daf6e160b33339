"""`make demo` keeps its promises: every command it prints answers, and its console user logs in.

This runs the README's first command for real, into a temporary environment on free
ports, from the demo's own virtual environment (the one a user gets: no test fixtures).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portway.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = tmp_path_factory.mktemp("demo") / "env"
    variables = {
        "DEMO_ENV": str(env),
        "DEMO_PORT": str(free_port()),
        "DEMO_SFTP_PORT": str(free_port()),
        "DEMO_FTP_PORT": str(free_port()),
        "DEMO_FTPS_PORT": str(free_port()),
    }
    args = [f"{k}={v}" for k, v in variables.items()]
    done = subprocess.run(
        ["make", "--no-print-directory", "demo", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        yield variables, done.stdout + done.stderr
    finally:
        subprocess.run(["make", "--no-print-directory", "demo-stop", *args], cwd=ROOT, timeout=120)


def _printed_commands(output: str) -> list[str]:
    tail = output.split("portway demo is running. Try:", 1)[1]
    return [line.strip() for line in tail.splitlines() if line.startswith("  ")]


def _run(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_demo_installs_no_test_fixture_and_warns_of_no_plugin(demo: tuple[dict[str, str], str]) -> None:
    _, output = demo
    assert "plugin_failed" not in output
    plugins = _run(".venv-demo/bin/portway plugins --json")
    assert plugins.returncode == 0, plugins.stderr
    assert "broken" not in plugins.stdout and "example" not in plugins.stdout
    assert "plugin_failed" not in plugins.stderr


def test_every_printed_command_answers(demo: tuple[dict[str, str], str]) -> None:
    variables, output = demo
    commands = _printed_commands(output)
    assert len(commands) >= 8, output
    ran = 0
    for command in commands:
        if command.startswith(("edit ", "open ", "make demo-stop")):
            continue  # an instruction for a person, the console (below), the teardown
        done = _run(command)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Error" not in done.stdout + done.stderr, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "plugin_failed" not in done.stderr, command
        ran += 1
    assert ran >= 8
    hello = _run(next(c for c in commands if "/hello" in c))
    assert '"hello": "Ada"' in hello.stdout
    log = Path(variables["DEMO_ENV"], "logs", "server.log").read_text(errors="replace")
    assert "hello MQ" in log  # the MQ send reached the channel's service


def test_the_printed_console_user_logs_in(demo: tuple[dict[str, str], str]) -> None:
    variables, output = demo
    found = re.search(r"Console user '([^']+)', password '([^']+)'", output)
    assert found, output
    user, password = found.groups()
    console = f"http://127.0.0.1:{variables['DEMO_PORT']}/admin"
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        page = http.get(console + "/login")
        cookie = page.headers["set-cookie"].split(";", 1)[0]
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token, page.text
        answer = http.post(
            console + "/login",
            data={"csrf": token.group(1), "username": user, "password": password},
            headers={"cookie": cookie},
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].endswith("/admin/")
