"""Issue 13, item 9 and Low items: forwarded headers, Host in redirects, health, half-open connections."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hardening_kit import closed_by_server, connection, exchange, new_env, raw_socket, read_to_close, running

from portway.environment import Environment
from portway.testing import ServerHandle

READ_TIMEOUT_S = 1


@pytest.fixture
def portway_env(tmp_path: Path) -> Environment:
    return new_env(tmp_path)


@pytest.fixture
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A server with short read and keep-alive timeouts."""
    env = new_env(
        tmp_path_factory.mktemp("quick"), server={"read_timeout_s": READ_TIMEOUT_S, "keep_alive_s": 1}
    )
    with running(env) as server:
        yield server


# Item 9: X-Forwarded-* only from trusted proxies

SPOOFED = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9"}


def test_forwarded_headers_from_localhost_are_not_believed_by_default(portway_server: ServerHandle) -> None:
    # Believed, X-Forwarded-Proto: https makes the scheme https, and the console then sends HSTS.
    answer = httpx.get(portway_server.url + "/admin/login", headers=SPOOFED)
    assert answer.status_code == 200
    assert "strict-transport-security" not in answer.headers


def test_trusted_proxies_are_believed(tmp_path: Path) -> None:
    env = new_env(tmp_path, server={"trusted_proxies": ["127.0.0.1"]})
    with running(env):
        answer = httpx.get(env.base_url + "/admin/login", headers=SPOOFED)
        assert "strict-transport-security" in answer.headers


# Low: redirects never reflect the Host header


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/admin/connections/"])
def test_redirects_do_not_name_the_requested_host(portway_server: ServerHandle, path: str) -> None:
    answer = httpx.get(portway_server.url + path, headers={"host": "evil.example"}, follow_redirects=False)
    assert answer.is_redirect, (path, answer.status_code)
    location = answer.headers["location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil.example" not in location


def test_relative_keeps_redirects_on_this_server() -> None:
    from portway.server.redirects import relative

    assert relative(b"http://evil.example/admin/?a=1") == b"/admin/?a=1"
    assert relative(b"https://evil.example") == b"/"
    assert relative(b"http://evil.example//other.example/x") == b"/other.example/x"
    assert relative(b"//other.example/x") == b"/x"
    assert relative(b"/admin/login") == b"/admin/login"


def test_console_cookie_is_kept_from_services() -> None:
    from portway.redaction import without_cookies

    header = "theme=dark; __Host-portway=tok; portway=tok2; other=1"
    assert without_cookies(header, ("__Host-portway", "portway")) == "theme=dark; other=1"


# Low: health is what the docs say


def test_health_is_exactly_status_ok(portway_server: ServerHandle) -> None:
    assert portway_server.request("GET", "/admin/api/health", admin=False) == (200, {"status": "ok"})


# Low: idle and half-open connections time out


def test_a_half_sent_request_is_closed_after_the_read_timeout(quick: ServerHandle) -> None:
    sock = raw_socket(quick, timeout=READ_TIMEOUT_S + 15)
    sock.sendall(b"GET /admin/api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never the rest
    assert closed_by_server(sock)


def test_a_silent_connection_is_closed_after_the_read_timeout(quick: ServerHandle) -> None:
    sock = raw_socket(quick, timeout=READ_TIMEOUT_S + 15)
    assert closed_by_server(sock)


def test_a_stalled_body_is_closed_after_the_read_timeout(quick: ServerHandle) -> None:
    sock = raw_socket(quick, timeout=READ_TIMEOUT_S + 15)
    sock.sendall(
        b"POST /admin/api/services/portway.ping/invoke HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {quick.api_key}\r\n".encode()
        + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    assert closed_by_server(sock)


def test_an_idle_keep_alive_connection_is_closed(quick: ServerHandle) -> None:
    sock = raw_socket(quick, timeout=15)
    sock.sendall(b"GET /admin/api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    answer, closed = read_to_close(sock)  # the answer, then the close once it idled keep_alive_s
    assert answer.startswith(b"HTTP/1.1 200") and closed, answer


def test_a_slow_but_steady_client_is_served(quick: ServerHandle) -> None:
    """The read timeout is a pause limit on the body, not a cap on a request's length."""
    sock = raw_socket(quick, timeout=15)
    body = b'{"pad": "' + b"x" * 50 + b'"}'  # sent over about twice the read timeout
    sock.sendall(
        b"POST /admin/api/services/portway.ping/invoke HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {quick.api_key}\r\n".encode()
        + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    for i in range(0, len(body), 10):
        time.sleep(READ_TIMEOUT_S * 0.3)
        sock.sendall(body[i : i + 10])
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")


def test_keep_alive_still_serves_several_requests(quick: ServerHandle) -> None:
    conn = connection(quick)
    for _ in range(3):
        assert exchange(conn, "GET", "/admin/api/health")[0] == 200
