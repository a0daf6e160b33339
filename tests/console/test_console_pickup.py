"""The channels page shows what a pickup channel reports: counts, the lease holder, the last error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from console_access import Admin, ConsoleClient, make_env

from portway.environment import Environment
from portway.testing import ServerHandle, allow_files

SERVICE = """
from portway import Service

class Fails(Service):
    name = "pickup.fails"

    def handle(self):
        raise RuntimeError("told to fail")
"""


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "bad.txt").write_text("x")
    return folder


@pytest.fixture
def portway_env(tmp_path: Path, inbox: Path) -> Environment:
    from portway.runtime import Runtime

    env = allow_files(make_env(tmp_path), inbox)
    (env.pickup_dirs[0] / "fails.py").write_text(SERVICE)
    runtime = Runtime(env)
    try:
        settings = {
            "service": "pickup.fails",
            "folder": str(inbox),
            "read_lock": "none",
            "poll_interval_s": 0.2,
        }
        runtime.catalog.create("channel", "file", "inbox", settings)
    finally:
        runtime.close()
    return env


def test_the_channels_page_shows_a_pickup_channels_figures(
    portway_server: ServerHandle, console: str, admin: Admin, inbox: Path
) -> None:
    deadline = time.monotonic() + 15
    while not (inbox / ".error" / "bad.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    client = ConsoleClient(console)
    client.log_in(admin)
    page = client.get("/channels")
    assert page.status_code == 200
    row = next(row for row in page.text.split("<tr")[1:] if ">inbox<" in row)
    assert "failed 1" in row and "(this server)" in row
    assert "told to fail" in row
