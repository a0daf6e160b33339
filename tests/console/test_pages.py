"""Connections, channels and services pages in a real browser against the real server."""

from __future__ import annotations

import re
from typing import Any

import pytest
from console_access import ECHO_TOKEN, Admin, log_in, shot

from portway.testing import ServerHandle

pytestmark = pytest.mark.browser


@pytest.fixture
def portway_server(shared_server: ServerHandle) -> ServerHandle:
    return shared_server


@pytest.fixture
def admin(shared_admin: Admin) -> Admin:
    return shared_admin


@pytest.fixture
def logged_in(page: Any, console: str, admin: Admin) -> Any:
    log_in(page, console, admin)
    page.wait_for_url(re.compile(r".*/admin/$"))
    return page


def _stored(server: ServerHandle, type_name: str) -> list[dict[str, Any]]:
    status, body = server.request("GET", f"/admin/api/connections?type={type_name}")
    assert status == 200, body
    assert isinstance(body, list)
    return body


def test_connection_form_validates_saves_pings_and_runs_an_action(
    logged_in: Any, console: str, portway_server: ServerHandle, echo_port: int
) -> None:
    page = logged_in
    page.click("nav >> text=Connections")
    page.click("text=New echo connection")
    page.wait_for_selector("#f-token")
    # The form comes from the plugin's settings model: help text from field descriptions.
    assert page.locator("text=Login token the server expects").count() == 1
    assert page.locator("#f-token").get_attribute("type") == "password"
    page.fill("#f-name", "Echo one")
    page.fill("#f-host", "127.0.0.1")
    page.fill("#f-port", "70000")
    page.fill("#f-token", ECHO_TOKEN)
    page.click("button:has-text('Create')")
    page.wait_for_selector(".field.invalid")
    # Field-level error; what was typed is kept, except the secret; nothing was saved.
    error = page.locator(".field.invalid .error")
    assert error.count() == 1
    assert "65535" in error.inner_text()
    assert page.locator("#f-host").input_value() == "127.0.0.1"
    assert page.locator("#f-port").input_value() == "70000"
    assert page.locator("#f-token").input_value() == ""
    assert ECHO_TOKEN not in page.content()
    assert "Echo one" not in [c["name"] for c in _stored(portway_server, "echo")]
    page.fill("#f-port", str(echo_port))
    page.fill("#f-token", ECHO_TOKEN)
    shot(page, "console-connection-form")
    page.click("button:has-text('Create')")
    page.wait_for_selector("text=The connection was saved.")
    assert page.locator("h1").inner_text() == "echo connection: Echo one"
    assert ECHO_TOKEN not in page.content()
    page.click("button:has-text('Ping')")
    page.wait_for_selector("text=Ping OK in")
    # Edit: the secret box is empty, and leaving it empty keeps the stored token.
    page.click("text=Edit")
    page.wait_for_selector("button:has-text('Save')")
    assert page.locator("#f-token").input_value() == ""
    assert ECHO_TOKEN not in page.content()
    page.fill("#f-timeout_s", "3")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=The connection was saved.")
    page.click("button:has-text('Ping')")
    page.wait_for_selector("text=Ping OK in")
    # A per-type Action, rendered from its arguments model.
    page.click("a:has-text('echo')")
    page.wait_for_selector("#f-text")
    page.click("button:has-text('Run')")
    page.wait_for_selector(".field.invalid")
    assert page.locator(".field.invalid .error").inner_text() == "required; give a value"
    page.fill("#f-text", "hello from the console")
    page.click("button:has-text('Run')")
    page.wait_for_selector("section.result")
    assert page.locator("section.result td code").inner_text() == "hello from the console"
    page.click("nav >> text=Connections")
    page.wait_for_selector("h1:has-text('Connections')")
    assert page.locator("text=Echo one").count() == 1
    shot(page, "console-connections")


def test_ping_failure_shows_the_reason(logged_in: Any, console: str) -> None:
    page = logged_in
    page.goto(console + "/connections/echo/new")
    page.fill("#f-name", "nowhere")
    page.fill("#f-host", "127.0.0.1")
    page.fill("#f-port", "1")
    page.fill("#f-token", "t")
    page.click("button:has-text('Create')")
    page.wait_for_selector("text=The connection was saved.")
    page.click("button:has-text('Ping')")
    page.wait_for_selector(".error.ping")
    assert "refused" in page.locator(".error.ping").inner_text().lower()
    page.click("button:has-text('Delete')")
    page.wait_for_selector("text=The connection was deleted.")
    assert page.locator("a:has-text('nowhere')").count() == 0


def test_duplicate_name_is_a_field_error(logged_in: Any, console: str) -> None:
    page = logged_in
    for _ in range(2):
        page.goto(console + "/connections/echo/new")
        page.fill("#f-name", "twice")
        page.fill("#f-host", "127.0.0.1")
        page.fill("#f-port", "7")
        page.fill("#f-token", "t")
        page.click("button:has-text('Create')")
    page.wait_for_selector(".field.invalid")
    assert "exists already" in page.locator(".field.invalid .error").inner_text()


def test_channels_create_and_delete(logged_in: Any, console: str, portway_server: ServerHandle) -> None:
    page = logged_in
    page.click("nav >> text=Channels")
    page.click("text=New http channel")
    page.fill("#f-name", "ping over http")
    page.fill("#f-path", "admin/no-slash")
    page.fill("#f-service", "portway.ping")
    page.click("button:has-text('Create')")
    page.wait_for_selector(".field.invalid")
    assert "must start with '/'" in page.locator(".field.invalid .error").inner_text()
    page.fill("#f-path", "/console-ping")
    page.select_option("#f-method", "GET")
    page.click("button:has-text('Create')")
    page.wait_for_selector("text=The channel was saved.")
    assert page.locator("td", has_text="running").count() == 1
    # The runtime was refreshed: the channel serves requests now.
    status, body = portway_server.request("GET", "/console-ping", admin=False)
    assert status == 200 and body["pong"] is True
    page.click("button:has-text('Delete')")
    page.wait_for_selector("text=The channel was deleted.")
    assert page.locator("td a:has-text('ping over http')").count() == 0


def test_invoke_a_service(logged_in: Any, console: str) -> None:
    page = logged_in
    page.click("nav >> text=Services")
    page.click("a:has-text('portway.log-message')")
    page.fill("#payload", '{"hello": "console"}')
    page.click("button:has-text('Invoke')")
    page.wait_for_selector("pre.transcript")
    assert '"logged": true' in page.locator("pre.transcript").inner_text()


def test_dashboard_shows_deploy_errors(logged_in: Any, console: str, portway_server: ServerHandle) -> None:
    import time

    broken = portway_server.env.pickup_dirs[0] / "broken_invoice.py"
    broken.write_text("from portway import Service\n\nclass Broken(Service):\n    def handle(self)\n")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status, body = portway_server.request("GET", "/admin/api/deploy")
        if status == 200 and any(f["path"] == str(broken) for f in body["failures"]):
            break
        time.sleep(0.1)
    page = logged_in
    page.goto(console + "/")
    row = page.locator("tr.failed", has_text="broken_invoice.py")
    assert row.count() == 1
    assert ":4" in row.inner_text()  # file and line
    broken.unlink()
