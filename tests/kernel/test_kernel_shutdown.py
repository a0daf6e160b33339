"""Issue 13, item 11: past drain_s, requests still running get a 503 and stop returns."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hardening_kit import add_channel, connection, new_env, wait_for_log

from portway.cli.remote import pid_alive, server_pid
from portway.environment import Environment
from portway.testing import ServerHandle

DRAIN_S = 1
CALLS = 50
SERVICES = """
import time
from portway import Service

class Stuck(Service):
    name = "t.stuck"
    def handle(self):
        time.sleep(120)
"""


@pytest.fixture
def portway_env(tmp_path: Path) -> Environment:
    return new_env(tmp_path, server={"drain_s": DRAIN_S})


def _call(server: ServerHandle, answers: list[Any]) -> None:
    conn = connection(server, timeout=120)
    try:
        conn.request("POST", "/stuck", body=b"{}", headers={"content-type": "application/json"})
        response = conn.getresponse()
        answers.append((response.status, response.getheader("retry-after"), response.read()))
    except (http.client.HTTPException, OSError) as exc:
        answers.append(exc)


def test_stop_past_drain_answers_503_and_returns(portway_server: ServerHandle, deploy_service: Any) -> None:
    deploy_service("t.py", SERVICES)
    add_channel(portway_server, "stuck", "/stuck", "t.stuck")
    answers: list[Any] = []
    callers = [threading.Thread(target=_call, args=(portway_server, answers)) for _ in range(CALLS)]
    for caller in callers:
        caller.start()
    time.sleep(2)  # all 50 are in: 40 on service threads, 10 waiting for one
    pid = server_pid(portway_server.env)
    assert pid is not None
    started = time.monotonic()
    stop = subprocess.run(
        [sys.executable, "-m", "portway.cli", "stop", str(portway_server.env.root)],
        capture_output=True,
        text=True,
        timeout=150,
    )
    took = time.monotonic() - started
    assert stop.returncode == 0, stop.stderr
    assert not pid_alive(pid)
    # A liveness bound far below the services' 120 s; the old server waited for every one of them.
    assert took < DRAIN_S + 15, f"stop took {took:.1f} s"
    for caller in callers:
        caller.join(30)
    assert len(answers) == CALLS
    assert all(isinstance(a, tuple) and a[:2] == (503, "5") for a in answers), answers
    text = wait_for_log(portway_server.env, "request_cancelled")
    assert "Exception in ASGI application" not in text
