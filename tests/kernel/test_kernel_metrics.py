"""GET /metrics on the real server: exact counts of service calls, channel messages and deploys."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portway import environment
from portway.environment import Environment
from portway.testing import ServerHandle, free_port, run_cli

SERVICES = """
import asyncio
from portway import Service


class Ok(Service):
    name = "m.ok"

    def handle(self):
        self.response.payload = {"ok": True}


class Boom(Service):
    name = "m.boom"

    def handle(self):
        raise ValueError("the payload must never be a label")


class Slow(Service):
    name = "m.slow"

    async def handle(self):
        await asyncio.sleep(0.06)
        self.response.payload = "late"
"""


def _set(env: Environment, key: str, value: str) -> None:
    path = env.root / "portway.toml"
    text = path.read_text()
    section = text.index("[metrics]")
    head, tail = text[:section], text[section:]
    tail = re.sub(rf"^{key} = .*$", f"{key} = {value}", tail, count=1, flags=re.MULTILINE)
    path.write_text(head + tail)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


@pytest.fixture
def server(portway_server: ServerHandle, deploy_service: Any) -> ServerHandle:
    deploy_service("m.py", SERVICES)
    for name in ("ok", "boom", "slow"):
        status, body = portway_server.request(
            "POST",
            "/admin/api/channels",
            {"type": "http", "name": name, "settings": {"path": f"/{name}", "service": f"m.{name}"}},
        )
        assert status == 201, body
    return portway_server


def test_scrape_counts_calls_errors_and_durations_exactly(server: ServerHandle) -> None:
    for _ in range(3):
        assert server.request("POST", "/ok", {}, admin=False)[0] == 200
    for _ in range(2):
        assert server.request("POST", "/boom", {}, admin=False)[0] == 500
    assert server.request("POST", "/slow", {}, admin=False)[0] == 200
    assert server.invoke("m.ok") == {"ok": True}

    status, text = server.request("GET", "/metrics")
    assert status == 200
    found = samples(text)
    ok_http = {"service": "m.ok", "channel_type": "http"}
    assert value(found, "portway_service_invocations_total", **ok_http) == 3
    assert value(found, "portway_service_errors_total", **ok_http) == 0
    assert value(found, "portway_service_duration_seconds_count", **ok_http) == 3
    assert value(found, "portway_service_duration_seconds_bucket", **ok_http, le="+Inf") == 3
    assert value(found, "portway_service_in_flight", **ok_http) == 0
    ok_admin = {"service": "m.ok", "channel_type": "admin-api"}
    assert value(found, "portway_service_invocations_total", **ok_admin) == 1

    boom = {"service": "m.boom", "channel_type": "http"}
    assert value(found, "portway_service_invocations_total", **boom) == 2
    assert value(found, "portway_service_errors_total", **boom) == 2

    slow = {"service": "m.slow", "channel_type": "http"}
    assert value(found, "portway_service_duration_seconds_count", **slow) == 1
    assert value(found, "portway_service_duration_seconds_bucket", **slow, le="0.025") == 0
    assert value(found, "portway_service_duration_seconds_bucket", **slow, le="+Inf") == 1
    # Over the 0.05 s bucket, not over its exact sleep: asyncio.sleep may wake a little early.
    assert value(found, "portway_service_duration_seconds_sum", **slow) > 0.05

    for channel, taken, ok, failed in [("ok", 3, 3, 0), ("boom", 2, 0, 2), ("slow", 1, 1, 0)]:
        labels = {"type": "http", "channel": channel}
        assert value(found, "portway_channel_messages_total", **labels, outcome="taken") == taken
        assert value(found, "portway_channel_messages_total", **labels, outcome="succeeded") == ok
        assert value(found, "portway_channel_messages_total", **labels, outcome="failed") == failed

    assert value(found, "portway_deploys_total") >= 1
    assert value(found, "portway_deploy_failures_total") == 0
    assert value(found, "portway_services") >= 3
    assert value(found, "portway_config_revision") >= 3  # three channels were stored
    assert value(found, "portway_boot_duration_seconds") >= 0
    assert any(name == "process_cpu_seconds_total" for name, _ in found)
    assert "the payload must never be a label" not in text
    assert server.api_key not in text

    status, stats = server.request("GET", "/admin/api/stats")
    assert status == 200 and stats["enabled"]
    rows = {row["name"]: row for row in stats["services"]}
    assert rows["m.ok"]["calls"] == 4  # three over HTTP, one through the admin API
    assert rows["m.ok"]["5m"]["calls"] == 4 and rows["m.ok"]["1h"]["calls"] == 4
    assert sum(rows["m.ok"]["5m"]["series"]) == 4 and len(rows["m.ok"]["5m"]["series"]) == 30
    assert len(rows["m.ok"]["1h"]["series"]) == 60
    assert rows["m.boom"]["5m"]["errors"] == 2 and rows["m.boom"]["5m"]["error_rate"] == 1.0
    assert rows["m.slow"]["5m"]["p99_ms"] >= 50  # the upper bound of the bucket the call fell in
    assert rows["m.ok"]["5m"]["error_rate"] == 0.0
    failing = {(c["type"], c["name"]): c for c in stats["channels"]}
    assert failing[("http", "boom")]["failed"] == 2 and ("http", "ok") not in failing

    printed = run_cli("status", server.env.root)
    assert printed.exit_code == 0, printed.error
    assert "top services by calls (last hour):" in printed.stdout
    assert "    m.ok: 4 calls, 0 errors" in printed.stdout
    assert "    m.boom: 2 calls, 2 errors" in printed.stdout
    assert "top services by p99 (last 5 minutes):" in printed.stdout
    assert "channel http boom: 2 messages failed or moved to error" in printed.stdout


def test_metrics_needs_the_api_key_by_default(server: ServerHandle) -> None:
    status, _ = server.request("GET", "/metrics", admin=False)
    assert status == 401


def test_metrics_off_leaves_the_path_to_channels(portway_env: Environment, portway_cli: Any) -> None:
    _set(portway_env, "enabled", "false")
    from portway.runtime import Runtime
    from portway.server.app import ServerApp

    runtime = Runtime(environment.load(portway_env.root))
    try:
        assert runtime.stats is None
        app = ServerApp(runtime)
        assert not app.metrics
    finally:
        runtime.close()


def test_public_metrics_and_a_listener_of_its_own(portway_env: Environment) -> None:
    own = free_port()
    _set(portway_env, "public", "true")
    _set(portway_env, "bind", f'"127.0.0.1:{own}"')
    from portway.cli.env import _start
    from portway.cli.remote import server_pid

    env = environment.load(portway_env.root)
    _start(env, wait_s=60)
    try:
        handle = ServerHandle(env)
        status, text = handle.request("GET", "/metrics", admin=False)
        assert status == 200 and "portway_services" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{own}/metrics", timeout=10) as answer:
            assert answer.status == 200
            assert "portway_services" in answer.read().decode()
    finally:
        pid = server_pid(env)
        if pid is not None:
            import os
            import signal

            os.kill(pid, signal.SIGTERM)
        _wait_gone(own)


def _wait_gone(port: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).close()
        except (urllib.error.URLError, OSError):
            return
        time.sleep(0.05)


def test_ready_answers_200_with_no_failing_channels(server: ServerHandle) -> None:
    status, body = server.request("GET", "/admin/api/health/ready", admin=False)
    assert (status, body) == (200, {"ready": True, "problems": [], "failing_channels": []})
