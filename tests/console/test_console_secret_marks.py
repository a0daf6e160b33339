"""Issue 18 item 14: the console says "(secret, set)" for a stored secret in the list and on the page."""

from __future__ import annotations

from console_access import ECHO_TOKEN, Admin, ConsoleClient

from portway.testing import ServerHandle


def test_list_and_page_say_secret_set(portway_server: ServerHandle, console: str, admin: Admin) -> None:
    settings = {"host": "127.0.0.1", "port": 9, "token": ECHO_TOKEN}
    created = portway_server.request(
        "POST", "/admin/api/connections", {"type": "echo", "name": "marked", "settings": settings}
    )
    assert created[0] == 201 and created[1]["settings"]["token"] == "********"  # REST's mask
    client = ConsoleClient(console)
    client.log_in(admin)
    for path in ("/connections", "/connections/echo/marked"):
        page = client.get(path).text
        assert "(secret, set)" in page and "********" not in page and ECHO_TOKEN not in page, path
