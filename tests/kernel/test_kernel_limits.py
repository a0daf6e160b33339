"""Issue 13, items 3 and 7: deep JSON is a 400, every 500 is JSON, bodies are bounded while they stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hardening_kit import (
    PASSWORD,
    Console,
    add_channel,
    add_console_user,
    connection,
    deep_json,
    exchange,
    new_env,
    raw_socket,
    read_to_close,
    running,
)

from portway.environment import Environment
from portway.testing import ServerHandle

SERVICES = """
from portway import Service

class Size(Service):
    name = "t.size"
    def handle(self):
        self.response.payload = {"size": len(self.request.payload or b"")}

class DeepOut(Service):
    name = "t.deep-out"
    def handle(self):
        value = []
        for _ in range(3000):
            value = [value]
        self.response.payload = value
"""
LIMIT = 2000  # [server] max_body_bytes of the `limited` server
ADMIN_LIMIT = 3000  # its [server] admin_max_body_bytes


@pytest.fixture
def portway_env(tmp_path: Path) -> Environment:
    return new_env(tmp_path)  # the defaults: 10 MiB for channels, 1 MiB for the admin API, depth 64


@pytest.fixture
def server(portway_server: ServerHandle, deploy_service: Any) -> ServerHandle:
    deploy_service("t.py", SERVICES)
    add_channel(portway_server, "size", "/size", "t.size")
    add_channel(portway_server, "deep-out", "/deep-out", "t.deep-out")
    return portway_server


@pytest.fixture
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A server with small limits, and channels with limits of their own."""
    env = new_env(
        tmp_path_factory.mktemp("limited"),
        server={"max_body_bytes": LIMIT, "admin_max_body_bytes": ADMIN_LIMIT},
    )
    (env.pickup_dirs[0] / "t.py").write_text(SERVICES)
    with running(env) as started:
        add_channel(started, "size", "/size", "t.size")
        add_channel(started, "big", "/big", "t.size", max_body_bytes=LIMIT * 4)
        add_channel(started, "small", "/small", "t.size", max_body_bytes=100)
        yield started


# Item 3: nesting


@pytest.mark.parametrize("depth", [65, 1000, 5000, 100_000])
def test_deep_json_is_a_400_naming_the_limit_on_a_kept_connection(server: ServerHandle, depth: int) -> None:
    conn = connection(server)
    status, headers, body = exchange(conn, "POST", "/size", deep_json(depth))
    assert status == 400, body[:300]
    assert "deeper than 64 levels" in json.loads(body)["error"]
    assert headers.get("connection") != "close"
    status, _, body = exchange(conn, "POST", "/size", b'{"a": [[1]]}')  # the same connection serves on
    assert status == 200


def test_json_as_deep_as_the_limit_is_served(server: ServerHandle) -> None:
    status, body = server.request("POST", "/size", deep_json(64), admin=False)
    assert status == 200, body


def test_deep_json_to_the_admin_api_is_a_json_400(server: ServerHandle) -> None:
    for path in ("/admin/api/connections", "/admin/api/services/t.size/invoke"):
        status, body = server.request("POST", path, deep_json(1000))
        assert status == 400 and "deeper than" in body["error"], (path, body)


def test_every_500_is_json_with_a_cid_and_keeps_the_connection(server: ServerHandle) -> None:
    conn = connection(server)
    auth = {"authorization": f"Bearer {server.api_key}"}
    for path, headers in (("/deep-out", {}), ("/admin/api/services/t.deep-out/invoke", auth)):
        status, answer_headers, body = exchange(conn, "POST", path, b"{}", headers)
        assert status == 500, body[:300]
        assert answer_headers["content-type"] == "application/json"
        answer = json.loads(body)
        assert set(answer) == {"error", "cid"} and "Traceback" not in body.decode()
        assert answer_headers.get("connection") != "close"
        assert exchange(conn, "GET", "/admin/api/health")[0] == 200  # kept alive


# Item 7: body limits


@pytest.mark.parametrize(
    ("path", "limit", "setting"),
    [
        ("/size", 10 * 1024 * 1024, "[server] max_body_bytes"),
        ("/admin/api/connections", 1024 * 1024, "[server] admin_max_body_bytes"),
        ("/admin/login", 1024 * 1024, "[server] admin_max_body_bytes"),
    ],
)
def test_a_declared_oversized_body_is_refused_before_it_is_read(
    server: ServerHandle, path: str, limit: int, setting: str
) -> None:
    sock = raw_socket(server, timeout=10)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".encode()
        + b"Content-Length: 10000000000\r\n\r\n"
    )
    raw, closed = read_to_close(sock)  # answered although not one byte of the body was sent
    answer = raw.decode()
    assert answer.startswith("HTTP/1.1 413") and closed, answer
    assert f"larger than {limit} bytes" in answer and setting in answer
    assert "connection: close" in answer.lower()


def test_a_channel_refuses_a_chunked_body_once_it_passes_the_limit(limited: ServerHandle) -> None:
    answer = _chunked_start(limited, "/size", LIMIT + 1)
    assert answer.startswith("HTTP/1.1 413"), answer
    assert _json_body(answer)["limit"] == LIMIT and "connection: close" in answer.lower()


def _json_body(answer: str) -> Any:
    return json.loads(answer.partition("\r\n\r\n")[2])


def _chunked_start(server: ServerHandle, path: str, size: int, headers: bytes = b"") -> str:
    """Send the head of a chunked body of ``size`` bytes and never its end; return the answer."""
    sock = raw_socket(server, timeout=10)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n".encode()
        + headers
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + f"{size:x}\r\n".encode()
        + b"x" * size
        + b"\r\n"
    )
    answer, closed = read_to_close(sock)  # the final 0-length chunk was never sent
    assert closed, answer
    return answer.decode()


def test_bodies_within_the_limit_and_per_channel_limits(limited: ServerHandle) -> None:
    sized = {"content-type": "application/octet-stream"}
    assert limited.request("POST", "/size", b"x" * LIMIT, admin=False, headers=sized) == (
        200,
        {"size": LIMIT},
    )
    status, body = limited.request("POST", "/size", b"x" * (LIMIT + 1), admin=False, headers=sized)
    assert status == 413 and "[server] max_body_bytes" in body["error"]
    assert limited.request("POST", "/big", b"x" * (LIMIT * 3), admin=False, headers=sized)[0] == 200
    status, body = limited.request("POST", "/small", b"x" * 101, admin=False, headers=sized)
    assert status == 413 and "channel 'small' max_body_bytes" in body["error"] and body["limit"] == 100


def test_the_admin_api_has_its_own_smaller_limit(limited: ServerHandle) -> None:
    big = {
        "type": "http",
        "name": "x",
        "settings": {"path": "/x", "service": "t.size", "pad": "y" * ADMIN_LIMIT},
    }
    status, body = limited.request("POST", "/admin/api/channels", big)
    assert status == 413 and "[server] admin_max_body_bytes" in body["error"]
    auth = f"Authorization: Bearer {limited.api_key}\r\n".encode()
    answer = _chunked_start(limited, "/admin/api/services/t.size/invoke", ADMIN_LIMIT + 1, auth)
    assert answer.startswith("HTTP/1.1 413") and _json_body(answer)["limit"] == ADMIN_LIMIT, answer
    assert limited.request("GET", "/admin/api/channels/http/x")[0] == 404  # nothing was written


def test_console_forms_are_limited_too(limited: ServerHandle) -> None:
    add_console_user(limited.env, "ops")
    console = Console(limited.url)
    assert console.log_in("ops", PASSWORD).status_code == 303
    token = console.csrf("/services/t.size")
    answer = console.post("/services/t.size", {"csrf": token, "payload": "z" * (ADMIN_LIMIT * 2)})
    assert answer.status_code == 413, answer.text[:300]
    assert "[server] admin_max_body_bytes" in answer.json()["error"]
