"""The real server over HTTP: channels, admin API, errors, OpenAPI, draining stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

import pytest

from portway.cli.remote import pid_alive, server_pid
from portway.testing import ServerHandle

SERVICES = """
import asyncio, time
from portway import Service

class Echo(Service):
    name = "t.echo"
    def handle(self):
        self.response.payload = {"got": self.request.payload, "channel": self.request.channel,
                                 "cid": self.cid, "params": self.request.meta.get("path_params")}

class AsyncEcho(Service):
    name = "t.async-echo"
    async def handle(self):
        inner = await self.ainvoke("t.echo", "inner")
        self.response.payload = {"inner_cid": inner["cid"], "cid": self.cid}

class Text(Service):
    name = "t.text"
    def handle(self):
        self.response.payload = "plain " + str(self.request.payload)
        self.response.status = 201

class Boom(Service):
    name = "t.boom"
    def handle(self):
        raise ValueError("secret internal detail")

class Slow(Service):
    name = "t.slow"
    def handle(self):
        time.sleep(1.5)
        self.response.payload = {"slow": "done"}

class UseEcho(Service):
    name = "t.use-echo"
    def handle(self):
        self.response.payload = self.out.echo["e1"].echo(self.request.payload)
"""


@pytest.fixture
def server(portway_server: ServerHandle, deploy_service: Any) -> ServerHandle:
    deploy_service("t.py", SERVICES)
    for name, path, method, service in [
        ("echo", "/echo", "POST", "t.echo"),
        ("item", "/items/{id}", "GET", "t.echo"),
        ("async", "/async", "POST", "t.async-echo"),
        ("text", "/text", "POST", "t.text"),
        ("boom", "/boom", "POST", "t.boom"),
        ("slow", "/slow", "POST", "t.slow"),
        ("gone", "/gone", "POST", "t.not-deployed"),
    ]:
        status, body = portway_server.request(
            "POST",
            "/admin/api/channels",
            {"type": "http", "name": name, "settings": {"path": path, "method": method, "service": service}},
        )
        assert status == 201, body
    return portway_server


def test_http_channel_invokes_sync_service_with_json(server: ServerHandle) -> None:
    status, body = server.request("POST", "/echo", {"a": 1}, admin=False)
    assert status == 200
    assert body["got"] == {"a": 1} and body["channel"] == "echo"


def test_path_params_and_cid_header(server: ServerHandle) -> None:
    request = urllib.request.Request(server.url + "/items/42", headers={"x-cid": "my-cid-1"})
    with urllib.request.urlopen(request) as response:
        assert response.headers["x-cid"] == "my-cid-1"
        import json

        body = json.loads(response.read())
    assert body["params"] == {"id": "42"} and body["cid"] == "my-cid-1"


def test_async_service_and_nested_invoke_share_the_cid(server: ServerHandle) -> None:
    status, body = server.request("POST", "/async", None, admin=False)
    assert status == 200
    assert body["inner_cid"] == body["cid"]


def test_text_payload_and_status(server: ServerHandle) -> None:
    status, body = server.request(
        "POST", "/text", b"hello", admin=False, headers={"content-type": "text/plain"}
    )
    assert (status, body) == (201, "plain hello")


def test_bad_json_is_400(server: ServerHandle) -> None:
    status, body = server.request("POST", "/echo", b"{not json", admin=False)
    assert status == 400 and "not valid JSON" in body["error"]


def test_unknown_path_404_wrong_method_405(server: ServerHandle) -> None:
    assert server.request("POST", "/nowhere", None, admin=False)[0] == 404
    status, body = server.request("GET", "/echo", None, admin=False)
    assert status == 405 and "POST" in body["error"]


def test_service_error_is_500_without_internals(server: ServerHandle) -> None:
    status, body = server.request("POST", "/boom", {}, admin=False)
    assert status == 500
    assert "secret internal detail" not in body["error"] and body["cid"]


def test_channel_to_undeployed_service_is_404(server: ServerHandle) -> None:
    status, body = server.request("POST", "/gone", {}, admin=False)
    assert status == 404 and "t.not-deployed" in body["error"]


def test_admin_api_needs_the_key(server: ServerHandle) -> None:
    status, body = server.request("GET", "/admin/api/plugins", admin=False)
    assert status == 401 and "API key" in body["error"]
    status, _ = server.request(
        "GET", "/admin/api/plugins", headers={"authorization": "Bearer wrong"}, admin=False
    )
    assert status == 401
    assert server.request("GET", "/admin/api/health", admin=False)[0] == 200


def test_example_plugin_end_to_end_over_rest(server: ServerHandle, echo_settings: dict[str, Any]) -> None:
    status, body = server.request(
        "POST", "/admin/api/connections", {"type": "echo", "name": "e1", "settings": echo_settings}
    )
    assert status == 201 and body["settings"]["token"] == "********"
    status, body = server.request(
        "POST", "/admin/api/connections", {"type": "echo", "name": "e1", "settings": echo_settings}
    )
    assert status == 409
    status, body = server.request(
        "POST",
        "/admin/api/connections",
        {"type": "echo", "name": "e2", "settings": {**echo_settings, "port": 0}},
    )
    assert status == 400 and body["field"] == "port"
    status, body = server.request("POST", "/admin/api/connections/echo/e1/ping")
    assert status == 200 and body["ok"] is True and body["ms"] > 0
    status, body = server.request("POST", "/admin/api/connections/echo/e1/actions/echo", {"text": "hi"})
    assert (status, body) == (200, {"result": "hi"})
    assert server.invoke("t.use-echo", "via service") == "via service"
    assert server.request("GET", "/admin/api/connections/echo/nope")[0] == 404
    assert server.request("POST", "/admin/api/connections", {"type": "nope", "name": "x"})[0] == 404


def test_ping_reports_the_reason(server: ServerHandle, echo_settings: dict[str, Any]) -> None:
    settings = {**echo_settings, "token": "wrong"}
    server.request("POST", "/admin/api/connections", {"type": "echo", "name": "bad", "settings": settings})
    status, body = server.request("POST", "/admin/api/connections/echo/bad/ping")
    assert status == 200 and body == {"ok": False, "reason": "login refused: NO bad token"}


def test_openapi_includes_plugin_settings(server: ServerHandle) -> None:
    status, doc = server.request("GET", "/openapi.json", admin=False)
    assert status == 200 and doc["openapi"].startswith("3.1")
    schema = doc["components"]["schemas"]["ConnectionSettings_echo"]
    assert set(schema["properties"]) >= {"host", "port", "token"}
    assert "/admin/api/connections/{type}/{name}/ping" in doc["paths"]


def test_stop_drains_in_flight_requests_and_waits_for_exit(server: ServerHandle) -> None:
    result: dict[str, Any] = {}

    def call_slow() -> None:
        result["answer"] = server.request("POST", "/slow", {}, admin=False)

    caller = threading.Thread(target=call_slow)
    caller.start()
    time.sleep(0.4)  # the request is in flight
    pid = server_pid(server.env)
    assert pid is not None
    stop = subprocess.run(
        [sys.executable, "-m", "portway.cli", "stop", str(server.env.root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stop.returncode == 0, stop.stderr
    assert not pid_alive(pid), "stop returned before the process exited"
    caller.join(10)
    assert result["answer"] == (200, {"slow": "done"})
    assert server_pid(server.env) is None  # the lock went with the process


def test_sigterm_drains_too(server: ServerHandle) -> None:
    pid = server_pid(server.env)
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(pid)
    assert "server_stopped" in (server.env.logs_dir / "server.log").read_text()


def test_cli_ping_and_action_go_through_the_running_server(
    server: ServerHandle, echo_settings: dict[str, Any]
) -> None:
    server.request(
        "POST", "/admin/api/connections", {"type": "echo", "name": "e9", "settings": echo_settings}
    )
    env = str(server.env.root)
    cli = [sys.executable, "-m", "portway.cli", "conn"]
    ping = subprocess.run([*cli, "ping", env, "echo", "e9"], capture_output=True, text=True, timeout=60)
    assert ping.returncode == 0 and ping.stdout.startswith("OK "), ping.stderr
    action = subprocess.run(
        [*cli, "action", env, "echo", "e9", "echo", "-a", "text=srv"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert action.stdout.strip() == "srv", action.stderr
