"""Console forms save only what the user changed, and say when stored secrets were cleared.

Forms are sent as a browser sends them: every box with what the page
showed, changed only where the test types.
"""

from __future__ import annotations

import html
import re
import socket
import threading
from collections.abc import Iterator

import pytest
from console_access import ECHO_TOKEN, Admin, ConsoleClient

from portway.testing import ServerHandle


@pytest.fixture
def portway_server(shared_server: ServerHandle) -> ServerHandle:
    return shared_server


@pytest.fixture
def admin(shared_admin: Admin) -> Admin:
    return shared_admin


@pytest.fixture
def client(console: str, admin: Admin) -> ConsoleClient:
    logged_in = ConsoleClient(console)
    logged_in.log_in(admin)
    return logged_in


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """The attacker's host: a listener on 127.0.0.1 that greets like FTP, asks for a password and keeps
    every line any client sends (the echo client sends its token at once, an FTP client after USER)."""
    sock = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def talk(conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            stream.write(b"220 hello\r\n")
            stream.flush()
            for line in stream:
                received.append(line)
                stream.write(
                    b"331 password please\r\n" if line.upper().startswith(b"USER") else b"530 no\r\n"
                )
                stream.flush()

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=talk, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield sock.getsockname()[1], received
    sock.close()


def shown_form(page: str) -> dict[str, str]:
    """What a browser would send for a form page left as it is (checked boxes, selected options)."""
    values: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        if name is None:
            continue
        kind = re.search(r'type="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            if " checked" in tag:
                values[name.group(1)] = "on"
            continue
        values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select name="([^"]*)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        values[name] = html.unescape(chosen.group(1)) if chosen else ""
    for name, text in re.findall(r'<textarea name="([^"]*)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = html.unescape(text)
    return values


def _stored(server: ServerHandle, type_name: str, name: str) -> dict[str, object]:
    status, body = server.request("GET", f"/admin/api/connections/{type_name}/{name}")
    assert status == 200, body
    return body


def test_a_new_item_stores_only_what_was_typed(client: ConsoleClient, portway_server: ServerHandle) -> None:
    page = client.get("/connections/echo/new").text
    assert "${PORTWAY_NAME}" in page  # the references a setting may hold
    form = shown_form(page)
    assert form["timeout_s"] == "5.0" and form["pool.size"] == "4"  # the defaults are shown...
    form.update(name="typed", host="127.0.0.1", port="7000", token="t")
    response = client.post("/connections/echo/new", form)
    assert response.status_code == 303, response.text
    stored = _stored(portway_server, "echo", "typed")
    assert stored["settings"] == {"host": "127.0.0.1", "port": 7000, "token": "********"}  # ...not stored
    assert stored["pool"] == {}

    edit = shown_form(client.get("/connections/echo/typed/edit").text)
    assert client.post("/connections/echo/typed/edit", edit).status_code == 303  # saved as shown
    assert _stored(portway_server, "echo", "typed")["settings"] == stored["settings"]

    edit.update({"timeout_s": "2.5", "pool.size": "2"})
    assert client.post("/connections/echo/typed/edit", edit).status_code == 303
    changed = _stored(portway_server, "echo", "typed")
    assert changed["settings"]["timeout_s"] == 2.5 and changed["pool"] == {"size": 2}  # type: ignore[index]
    edit.update({"timeout_s": "", "pool.size": ""})  # emptied: back to the defaults
    assert client.post("/connections/echo/typed/edit", edit).status_code == 303
    again = _stored(portway_server, "echo", "typed")
    assert "timeout_s" not in again["settings"] and again["pool"] == {}  # type: ignore[operator]


def test_moving_the_port_asks_for_the_secret_again(
    client: ConsoleClient, portway_server: ServerHandle, echo_port: int, listener: tuple[int, list[bytes]]
) -> None:
    port, received = listener
    settings = {"host": "127.0.0.1", "port": echo_port, "token": ECHO_TOKEN}
    status, _ = portway_server.request(
        "POST", "/admin/api/connections", {"type": "echo", "name": "moved", "settings": settings}
    )
    assert status == 201
    page = client.get("/connections/echo/moved/edit").text
    assert "Changing host or port clears this stored secret unless you type it again." in page

    form = shown_form(page)
    assert form["token"] == ""  # a stored secret is never shown
    form["port"] = str(port)
    refused = client.post("/connections/echo/moved/edit", form)
    assert refused.status_code == 400
    assert "changing port clears the stored token; give it again" in html.unescape(refused.text)
    assert _stored(portway_server, "echo", "moved")["settings"]["port"] == echo_port  # type: ignore[index]

    token = client.csrf("/connections/echo/moved")
    client.post("/connections/echo/moved/ping", {"csrf": token})
    assert ECHO_TOKEN.encode() not in b"".join(received)


def test_an_optional_secret_cleared_by_a_move_is_said_on_the_page(
    client: ConsoleClient, portway_server: ServerHandle, listener: tuple[int, list[bytes]]
) -> None:
    port, received = listener
    settings = {"host": "127.0.0.1", "port": 1, "username": "u", "password": "st0red-Pass"}
    status, _ = portway_server.request(
        "POST", "/admin/api/connections", {"type": "ftp", "name": "ftpmove", "settings": settings}
    )
    assert status == 201
    form = shown_form(client.get("/connections/ftp/ftpmove/edit").text)
    form["port"] = str(port)
    saved = client.post("/connections/ftp/ftpmove/edit", form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=cleared")
    page = client.get("/connections/ftp/ftpmove?done=cleared").text
    assert "its stored secrets were cleared" in page
    assert "password" not in _stored(portway_server, "ftp", "ftpmove")["settings"]  # type: ignore[operator]
    client.post("/connections/ftp/ftpmove/ping", {"csrf": client.csrf("/connections/ftp/ftpmove")})
    assert b"USER u\r\n" in received  # the client did log in to the new port...
    assert b"st0red-Pass" not in b"".join(received)  # ...without the stored password
