"""Pooling through self.out against a real TCP server: reuse, health checks, replacement, limits."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from portway.errors import ConnectionFailed, NotFoundError
from portway.invocation import ServiceFailed
from portway.runtime import Runtime

USER = """
from portway import Service

class Echo(Service):
    name = "p.echo"
    def handle(self):
        handle = self.out.echo["e"]
        first = handle.conn
        self.response.payload = {"text": handle.echo(self.request.payload), "same": first is handle.conn}

class UnknownType(Service):
    name = "p.unknown-type"
    def handle(self):
        self.out.nosuch["x"].conn

class UnknownName(Service):
    name = "p.unknown-name"
    def handle(self):
        self.out.echo["missing"].conn

class Breaks(Service):
    name = "p.breaks"
    def handle(self):
        self.out.echo["e"].conn
        raise ConnectionResetError("peer went away")
"""


@pytest.fixture
def runtime(portway_runtime: Runtime, deploy_service: Any, echo_settings: dict[str, Any]) -> Runtime:
    deploy_service("p.py", USER)
    portway_runtime.catalog.create("connection", "echo", "e", echo_settings, {"size": 2, "check_after_s": 0})
    return portway_runtime


def test_clients_are_reused_across_calls(runtime: Runtime, echo_server: Any) -> None:
    for i in range(5):
        assert runtime.invoke("p.echo", f"m{i}").payload == {"text": f"m{i}", "same": True}
    assert echo_server.logins == 1


def test_dropped_client_is_detected_and_replaced(runtime: Runtime, echo_server: Any) -> None:
    runtime.invoke("p.echo", "a")
    echo_server.drop_all()
    assert runtime.invoke("p.echo", "b").payload["text"] == "b"
    assert echo_server.logins == 2


def test_client_broken_during_a_call_is_discarded(runtime: Runtime, echo_server: Any) -> None:
    with pytest.raises(ServiceFailed):
        runtime.invoke("p.breaks")
    pool = runtime.connections.pool("echo", "e")
    assert pool.stats()["live"] == 0
    runtime.invoke("p.echo", "x")
    assert echo_server.logins == 2


def test_unknown_type_and_name_are_clear(runtime: Runtime) -> None:
    with pytest.raises(ServiceFailed) as caught:
        runtime.invoke("p.unknown-type")
    assert isinstance(caught.value.error, NotFoundError)
    assert "no connection type named 'nosuch'" in str(caught.value.error) and "echo" in str(
        caught.value.error
    )
    with pytest.raises(ServiceFailed) as caught:
        runtime.invoke("p.unknown-name")
    assert "no echo connection named 'missing'; configured echo connections: 'e'" in str(caught.value.error)


def test_pool_limit_waits_then_fails_clearly(runtime: Runtime) -> None:
    runtime.catalog.update("connection", "echo", "e", {}, {"size": 1, "borrow_timeout_s": 0.2})
    runtime.refresh()
    pool = runtime.connections.pool("echo", "e")
    held = pool.borrow()
    try:
        with pytest.raises(ConnectionFailed, match="all 1 pooled clients are busy"):
            pool.borrow()
    finally:
        pool.give_back(held)
    assert pool.borrow() is held


def test_concurrent_calls_share_a_bounded_pool(runtime: Runtime, echo_server: Any) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                runtime.invoke("p.echo", "c")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert echo_server.logins <= 2


def test_config_change_rebuilds_the_pool(runtime: Runtime, echo_server: Any) -> None:
    runtime.invoke("p.echo", "a")
    runtime.catalog.update("connection", "echo", "e", {"timeout_s": 3})
    assert runtime.refresh()
    runtime.invoke("p.echo", "b")
    assert echo_server.logins == 2


def test_ping_opens_a_fresh_connection(runtime: Runtime, echo_server: Any) -> None:
    assert runtime.connections.ping("echo", "e") > 0
    runtime.catalog.create("connection", "echo", "bad", {"host": "127.0.0.1", "port": 1, "token": "t"})
    with pytest.raises(ConnectionFailed, match="refused"):
        runtime.connections.ping("echo", "bad")
