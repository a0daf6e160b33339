"""End to end: a deployed service uses ``self.out.ftp[name].conn`` from the connection pool."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from portway.errors import ConnectionFailed
from portway_ftp.demo_server import DemoServer, HandlerOptions

USER, PASSWORD = "tester", "s3cret-Pass"  # as in conftest.py

SERVICE = """
from portway import Service

class Store(Service):
    name = "files.store"

    def handle(self):
        conn = self.out.ftp["files"].conn
        conn.write(self.request.payload["text"], self.request.payload["path"])
        self.response.payload = {
            "client": id(conn),
            "names": [i.name for i in conn.list("/")],
            "back": conn.read(self.request.payload["path"]).decode(),
        }
"""


def _connection(servers: Any, mode: str) -> dict[str, Any]:
    settings = servers.settings(mode).model_dump(mode="json")
    settings["password"] = PASSWORD
    return {k: v for k, v in settings.items() if v is not None}


@pytest.mark.parametrize("mode", ["plain", "explicit"])
def test_service_uses_a_pooled_ftp_connection(
    servers: Any, portway_runtime: Any, deploy_service: Any, mode: str
) -> None:
    rt = portway_runtime
    rt.catalog.create("connection", "ftp", "files", _connection(servers, mode))
    rt.refresh()
    deploy_service("store.py", SERVICE)
    first = rt.invoke("files.store", {"text": "one", "path": "/a.txt"}).payload
    second = rt.invoke("files.store", {"text": "two", "path": "/b.txt"}).payload
    assert first["names"] == ["a.txt"] and first["back"] == "one"
    assert second["names"] == ["a.txt", "b.txt"] and second["back"] == "two"
    assert first["client"] == second["client"]  # the control connection was kept and reused
    assert rt.connections.pool("ftp", "files").stats()["live"] == 1
    assert (servers.root / "b.txt").read_text() == "two"
    assert rt.connections.ping("ftp", "files") > 0


def test_dropped_control_connection_is_replaced(
    servers: Any, portway_runtime: Any, deploy_service: Any, tmp_path: Path
) -> None:
    rt = portway_runtime
    port = servers.port("plain")
    rt.catalog.create("connection", "ftp", "files", _connection(servers, "plain"), pool={"check_after_s": 0})
    rt.refresh()
    deploy_service("store.py", SERVICE)
    before = rt.invoke("files.store", {"text": "1", "path": "/one.txt"}).payload

    # The server restarts: every session it had is gone.
    servers.server.stop()
    restarted = DemoServer()
    restarted.listen("plain", HandlerOptions(servers.root, USER, PASSWORD), port)
    restarted.start()
    try:
        after = rt.invoke("files.store", {"text": "2", "path": "/two.txt"}).payload
        # The NOOP check before lending found the session dead: the client was
        # replaced (or, idle over a second, reconnected itself). The call never saw it.
        assert before["names"] == ["one.txt"]
        assert after["names"] == ["one.txt", "two.txt"]
        assert rt.connections.pool("ftp", "files").stats()["live"] == 1
    finally:
        restarted.stop()


def test_an_idle_client_whose_session_died_reconnects_by_itself(
    servers: Any, portway_runtime: Any, deploy_service: Any
) -> None:
    rt = portway_runtime
    port = servers.port("plain")
    # Default check_after_s (30 s): the dead idle client is lent without a check.
    rt.catalog.create("connection", "ftp", "files", _connection(servers, "plain"))
    rt.refresh()
    deploy_service("store.py", SERVICE)
    before = rt.invoke("files.store", {"text": "1", "path": "/one.txt"}).payload
    servers.server.stop()
    restarted = DemoServer()
    restarted.listen("plain", HandlerOptions(servers.root, USER, PASSWORD), port)
    restarted.start()
    try:
        time.sleep(1.1)  # idle long enough for a reconnect-and-repeat to be safe
        after = rt.invoke("files.store", {"text": "2", "path": "/two.txt"}).payload
        assert after["client"] == before["client"]  # the same pooled client, reconnected inside
        assert after["names"] == ["one.txt", "two.txt"]
        assert rt.connections.pool("ftp", "files").stats()["live"] == 1
    finally:
        restarted.stop()


def test_actions_through_the_kernel(servers: Any, portway_runtime: Any) -> None:
    from portway.testing import run_action

    rt = portway_runtime
    rt.catalog.create("connection", "ftp", "files", _connection(servers, "explicit"))
    rt.refresh()
    (servers.root / "in.txt").write_text("hello")
    result = run_action(rt, "ftp", "files", "execute", {"script": "ls -1\nrename in.txt out.txt"})
    assert result["ok"] is True
    assert "in.txt" in result["transcript"]
    assert (servers.root / "out.txt").read_text() == "hello"
    failed = run_action(rt, "ftp", "files", "execute", {"script": "rm missing.txt"})
    assert failed["ok"] is False and failed["line"] == 1
    assert run_action(rt, "ftp", "files", "ping", {})["ms"] > 0
    listed = run_action(rt, "ftp", "files", "list", {"path": "/"})
    assert [(e["name"], e["kind"], e["size"], e["mode"]) for e in listed] == [("out.txt", "file", 5, "644")]


def test_secrets_are_sealed_and_bad_settings_refused(servers: Any, portway_runtime: Any) -> None:
    from portway.errors import SettingError

    rt = portway_runtime
    view = rt.catalog.create("connection", "ftp", "files", _connection(servers, "plain"))
    assert view.settings["password"] == "********"
    with pytest.raises(SettingError, match="tls"):
        rt.catalog.create("connection", "ftp", "bad", {"host": "h", "tls": "maybe"})
    assert [i.name for i in rt.catalog.list("connection", "ftp")] == ["files"]


def test_wrong_password_fails_the_ping_with_the_reason(make_servers: Any, portway_runtime: Any) -> None:
    servers = make_servers({"auth_failed_timeout": 0.01})
    rt = portway_runtime
    settings = _connection(servers, "plain") | {"password": "wrong"}
    rt.catalog.create("connection", "ftp", "files", settings)
    with pytest.raises(ConnectionFailed, match="530"):
        rt.connections.ping("ftp", "files")
