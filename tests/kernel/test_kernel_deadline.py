"""Issue 18 item 13: connect and ping have a kernel-side time limit, reported as "timed out after N s".

The peers are real sockets on 127.0.0.1: one accepts and never answers,
one logs in and then never answers a ping. The example ``echo`` plugin
waits 60 s on its own (its ``timeout_s``); the connection's pool setting
``connect_timeout_s`` is what ends the wait.
"""

from __future__ import annotations

import contextvars
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from portway import deadline, plugin_cli
from portway.errors import ConnectionFailed
from portway.pool import PoolSettings
from portway.testing import create_connection, ping, run_action

TOKEN = "s3cret-token"


class SilentPeer:
    """Accepts TCP connections; answers LOGIN when ``login`` is set, and nothing else, ever."""

    def __init__(self, login: bool) -> None:
        self.login = login
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            if self.login:
                threading.Thread(target=self._answer_login, args=(conn,), daemon=True).start()

    def _answer_login(self, conn: socket.socket) -> None:
        try:
            if conn.makefile("rb").readline().startswith(b"LOGIN "):
                conn.sendall(b"OK\n")
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:  # the abandoned connect or ping now fails and its thread ends
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentPeer]:
    peer = SilentPeer(login=False)
    yield peer
    peer.close()


@pytest.fixture
def mute_after_login() -> Iterator[SilentPeer]:
    peer = SilentPeer(login=True)
    yield peer
    peer.close()


def _settings(peer: SilentPeer) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": peer.port, "token": TOKEN, "timeout_s": 60}


def test_the_limit_is_a_pool_setting_with_a_default() -> None:
    assert PoolSettings().connect_timeout_s == 30
    with pytest.raises(ValueError):
        PoolSettings(connect_timeout_s=0)


def test_ping_of_a_peer_that_never_answers_times_out(portway_runtime: Any, silent: SilentPeer) -> None:
    create_connection(portway_runtime, "echo", "silent", _settings(silent), {"connect_timeout_s": 0.5})
    with pytest.raises(ConnectionFailed) as caught:
        ping(portway_runtime, "echo", "silent")
    assert caught.value.reason == "connect timed out after 0.5 s"
    assert str(caught.value) == "echo connection 'silent': connect timed out after 0.5 s"


def test_a_ping_that_never_answers_times_out(portway_runtime: Any, mute_after_login: SilentPeer) -> None:
    create_connection(
        portway_runtime, "echo", "mute", _settings(mute_after_login), {"connect_timeout_s": 0.5}
    )
    with pytest.raises(ConnectionFailed) as caught:
        ping(portway_runtime, "echo", "mute")
    assert caught.value.reason == "ping timed out after 0.5 s"


def test_a_pooled_connect_times_out_and_frees_its_slot(portway_runtime: Any, silent: SilentPeer) -> None:
    pool = {"connect_timeout_s": 0.5, "size": 1}
    create_connection(portway_runtime, "echo", "silent", _settings(silent), pool)
    for _ in range(2):  # the slot the first attempt took is free again for the second
        with pytest.raises(ConnectionFailed, match=r"connect timed out after 0\.5 s"):
            run_action(portway_runtime, "echo", "silent", "echo", {"text": "x"})
    assert portway_runtime.connections.pool("echo", "silent").stats()["live"] == 0


def test_a_pooled_idle_client_whose_ping_hangs_is_replaced(
    portway_runtime: Any, mute_after_login: SilentPeer
) -> None:
    pool = {"connect_timeout_s": 0.5, "check_after_s": 0}  # ping every client before it is lent
    create_connection(portway_runtime, "echo", "mute", _settings(mute_after_login), pool)
    connections = portway_runtime.connections.pool("echo", "mute")
    client = connections.borrow()
    connections.give_back(client)
    # The idle client's ping times out; it is closed and a new one is opened (whose login works).
    replaced = connections.borrow()
    assert replaced is not client
    connections.give_back(replaced)


def test_a_plugin_command_client_times_out_too(portway_env: Any, silent: SilentPeer) -> None:
    from portway.runtime import Runtime

    runtime = Runtime(portway_env)
    try:
        create_connection(runtime, "echo", "silent", _settings(silent), {"connect_timeout_s": 0.5})
    finally:
        runtime.close()
    opening = plugin_cli.open_client(portway_env.root, "echo", "silent")
    with pytest.raises(ConnectionFailed, match=r"connect timed out after 0\.5 s"), opening:
        pass


def test_a_result_that_comes_too_late_is_discarded() -> None:
    release = threading.Event()
    discarded: list[str] = []
    done = threading.Event()

    def slow_connect() -> str:
        release.wait(10)
        return "client-1"

    def discard(client: str) -> None:
        discarded.append(client)
        done.set()

    with pytest.raises(deadline.TimedOut) as caught:
        deadline.within(0.05, "connect", slow_connect, discard)
    assert str(caught.value) == "connect timed out after 0.05 s"
    release.set()
    assert done.wait(10) and discarded == ["client-1"]


def test_errors_and_context_reach_the_caller() -> None:
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker")
    marker.set("cid-1")
    assert deadline.within(5, "ping", marker.get) == "cid-1"

    def refused() -> None:
        raise PermissionError("login refused")

    with pytest.raises(PermissionError, match="login refused"):
        deadline.within(5, "connect", refused)
