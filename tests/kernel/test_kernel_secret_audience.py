"""Changing where a connection goes (its secrets' audience) clears the stored secrets unless given again.

The echo type marks nothing, so its audience is the default: ``host`` and
``port``. A listener that records what it is sent stands in for the
attacker's host.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Annotated

import pytest
from pydantic import BaseModel, Field, SecretStr

from portway.environment import Environment
from portway.errors import SettingError
from portway.runtime import Runtime
from portway.settings_marks import DEFAULT_AUDIENCE, SecretAudience, audience_fields
from portway.testing import ServerHandle

TOKEN = "s3cret-token"  # the echo server's, see conftest.py


class Recorder:
    """A TCP listener on 127.0.0.1 that keeps every byte any client sends it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = b""
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    while data := conn.recv(4096):
                        self.received += data
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    listener = Recorder()
    yield listener
    listener.close()


@pytest.fixture
def runtime(portway_env: Environment) -> Iterator[Runtime]:
    rt = Runtime(portway_env)
    yield rt
    rt.close()


def test_moving_the_port_without_the_token_is_refused_and_says_why(
    runtime: Runtime, echo_settings: dict[str, object], recorder: Recorder
) -> None:
    runtime.catalog.create("connection", "echo", "e", echo_settings)
    with pytest.raises(SettingError, match="changing port clears the stored token; give it again"):
        runtime.catalog.update("connection", "echo", "e", {"port": recorder.port})
    assert runtime.catalog.resolve("connection", "echo", "e").port == echo_settings["port"]  # type: ignore[attr-defined]
    assert runtime.connections.ping("echo", "e") > 0  # nothing was written: still the real server
    assert TOKEN.encode() not in recorder.received


def test_the_token_given_again_goes_with_the_move(
    runtime: Runtime, echo_settings: dict[str, object], echo_server: object
) -> None:
    runtime.catalog.create("connection", "echo", "e", {**echo_settings, "port": 1})
    updated = runtime.catalog.update(
        "connection", "echo", "e", {"port": echo_settings["port"], "token": TOKEN}
    )
    assert updated.cleared == ()
    assert runtime.connections.ping("echo", "e") > 0


def test_other_changes_keep_the_stored_token(runtime: Runtime, echo_settings: dict[str, object]) -> None:
    runtime.catalog.create("connection", "echo", "e", echo_settings)
    updated = runtime.catalog.update(
        "connection", "echo", "e", {"timeout_s": 2, "port": echo_settings["port"]}
    )
    assert updated.cleared == () and updated.as_dict().get("cleared_secrets") is None
    assert runtime.connections.ping("echo", "e") > 0


class Optional(BaseModel):
    model_config = {"extra": "forbid"}
    address: Annotated[str, SecretAudience()] = Field(description="Where to connect")
    host: str = Field("", description="Not the audience: the model marks its own")
    password: SecretStr | None = None


def test_marked_fields_replace_the_default_audience() -> None:
    assert audience_fields(Optional) == {"address"}
    assert {"host", "port", "username", "user"} == DEFAULT_AUDIENCE


def test_an_optional_secret_is_cleared_and_the_result_says_so(runtime: Runtime) -> None:
    from portway.declarations import ConnectionType

    runtime.plugins.connection_types["opt"] = ConnectionType(
        name="opt", settings=Optional, connect=lambda s: s, ping=lambda c: None, close=lambda c: None
    )
    runtime.catalog.create("connection", "opt", "o", {"address": "a", "password": "pw"})
    same = runtime.catalog.update("connection", "opt", "o", {"host": "elsewhere", "address": "a"})
    assert same.cleared == ()
    moved = runtime.catalog.update("connection", "opt", "o", {"address": "b"})
    assert moved.cleared == ("password",) and moved.moved == ("address",)
    assert moved.as_dict()["cleared_secrets"] == ["password"]
    assert "changing address cleared the stored password" in moved.as_dict()["notice"]
    assert runtime.catalog.resolve("connection", "opt", "o").password is None  # type: ignore[attr-defined]


def test_rest_update_of_the_port_never_sends_the_token_to_the_new_port(
    portway_server: ServerHandle, echo_settings: dict[str, object], recorder: Recorder
) -> None:
    status, _ = portway_server.request(
        "POST", "/admin/api/connections", {"type": "echo", "name": "e", "settings": echo_settings}
    )
    assert status == 201
    status, body = portway_server.request(
        "PATCH", "/admin/api/connections/echo/e", {"settings": {"port": recorder.port, "token": ""}}
    )
    assert status == 400, body
    assert "changing port clears the stored token; give it again" in str(body)
    portway_server.request("POST", "/admin/api/connections/echo/e/ping")
    status, body = portway_server.request(
        "PATCH",
        "/admin/api/connections/echo/e",
        {"settings": {"port": recorder.port, "token": "typed-again"}},
    )
    assert status == 200 and "cleared_secrets" not in body
    portway_server.request("POST", "/admin/api/connections/echo/e/ping")
    assert TOKEN.encode() not in recorder.received
    assert b"LOGIN typed-again" in recorder.received


def test_cli_update_of_the_host_asks_for_the_token_again(portway_env: Environment) -> None:
    from test_kernel_cli import fails, ok

    env = str(portway_env.root)
    ok("conn", "create", env, "echo", "e", "--host", "127.0.0.1", "--port", "1", "--token", "t")
    assert "changing host clears the stored token; give it again" in fails(
        "conn", "update", env, "echo", "e", "--host", "localhost"
    )
    ok("conn", "update", env, "echo", "e", "--host", "localhost", "--token", "t")
