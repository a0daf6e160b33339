"""Issue 13, item 4: slow services cannot starve the admin API and console; calls have a time limit."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from hardening_kit import add_channel, new_env, running, wait_for_log

from portway.environment import Environment
from portway.testing import ServerHandle

SLOW_S = 12
SERVICES = f"""
import time
from portway import Service

class Slow(Service):
    name = "t.slow"
    def handle(self):
        time.sleep(float((self.request.payload or {{}}).get("s", {SLOW_S})))
        self.response.payload = {{"slept": True}}
"""
BUSY = 45  # more than the 40 threads sync services get by default


@pytest.fixture
def portway_env(tmp_path: Path) -> Environment:
    return new_env(tmp_path)


@pytest.fixture
def server(portway_server: ServerHandle, deploy_service: Any) -> ServerHandle:
    deploy_service("t.py", SERVICES)
    add_channel(portway_server, "slow", "/slow", "t.slow")
    return portway_server


def _fill_service_threads(server: ServerHandle) -> list[threading.Thread]:
    def call() -> None:
        request = urllib.request.Request(
            server.url + "/slow", data=b"{}", method="POST", headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=SLOW_S * 3) as response:
            response.read()

    callers = [threading.Thread(target=call, daemon=True) for _ in range(BUSY)]
    for caller in callers:
        caller.start()
    return callers


def test_admin_api_and_console_answer_while_every_service_thread_is_busy(server: ServerHandle) -> None:
    callers = _fill_service_threads(server)
    time.sleep(2)  # every caller is in: 40 on threads, the rest waiting for one
    assert all(caller.is_alive() for caller in callers)
    # A generous liveness bound: on the old shared pool these waited for the services (12 s).
    for path in ("/admin/api/connections", "/admin/api/deploy"):
        request = urllib.request.Request(
            server.url + path, headers={"authorization": f"Bearer {server.api_key}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200, path
    with urllib.request.urlopen(server.url + "/admin/login", timeout=5) as response:
        assert response.status == 200
    for caller in callers:
        caller.join(SLOW_S * 3)


def test_a_call_past_its_time_limit_is_a_504_naming_the_service(server: ServerHandle) -> None:
    add_channel(server, "limited", "/limited", "t.slow", timeout_s=1)
    status, body = server.request("POST", "/limited", {"s": 30}, admin=False)
    assert status == 504 and "t.slow" in body["error"] and body["cid"], body
    text = wait_for_log(server.env, "service_timed_out")
    line = next(line for line in text.splitlines() if "service_timed_out" in line)
    assert "t.slow" in line and body["cid"] in line
    assert server.request("POST", "/limited", {"s": 0.1}, admin=False) == (200, {"slept": True})


def test_the_server_default_time_limit_holds_for_admin_invokes(tmp_path: Path) -> None:
    env = new_env(tmp_path, server={"service_timeout_s": 1})
    (env.pickup_dirs[0] / "t.py").write_text(SERVICES)
    with running(env) as server:
        status, body = server.request("POST", "/admin/api/services/t.slow/invoke", {"s": 30})
        assert status == 504 and "t.slow" in body["error"] and body["cid"], body
