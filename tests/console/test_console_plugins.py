"""The console on real plugins: an SFTP connection pinged against the test sshd and its
command shell, and an MQ test message sent to the in-memory queue manager and logged
by ``portway.log-message`` through an ``ibm_mq`` channel."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from console_access import Admin, log_in, shot, wait_for_log

from portway.testing import ServerHandle

pytestmark = pytest.mark.browser


@pytest.fixture
def portway_server(shared_server: ServerHandle) -> ServerHandle:
    return shared_server


@pytest.fixture
def admin(shared_admin: Admin) -> Admin:
    return shared_admin


def _needs_type(server: ServerHandle, type_name: str) -> None:
    status, types = server.request("GET", "/admin/api/connection-types")
    assert status == 200, types
    names = {t["name"] for t in types} if isinstance(types, list) else set(types)
    if type_name not in names:
        pytest.skip(f"the {type_name} connection type is not installed")


@pytest.fixture
def logged_in(page: Any, console: str, admin: Admin) -> Any:
    log_in(page, console, admin)
    page.wait_for_url(re.compile(r".*/admin/$"))
    return page


def test_sftp_connection_ping_and_shell(
    logged_in: Any, console: str, portway_server: ServerHandle, sshd: Any, tmp_path: Path
) -> None:
    _needs_type(portway_server, "sftp")
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "invoice-0042.xml").write_text("<invoice/>")
    page = logged_in
    page.goto(console + "/connections/sftp/new")
    page.fill("#f-name", "Bank SFTP")
    page.fill("#f-host", "127.0.0.1")
    page.fill("#f-port", str(sshd.port))
    page.fill("#f-username", "root")
    page.fill("#f-private_key_file", str(sshd.user_key))
    page.fill("#f-known_hosts_file", str(sshd.known_hosts))
    page.click("button:has-text('Create')")
    page.wait_for_selector("text=The connection was saved.")
    page.click("button:has-text('Ping')")
    page.wait_for_selector("text=Ping OK in")
    page.click("a:has-text('execute')")
    page.wait_for_selector("#f-script")
    page.fill("#f-script", f"cd {remote}\nls .")
    page.click("button:has-text('Run')")
    page.wait_for_selector("pre.transcript")
    transcript = page.locator("pre.transcript").all_inner_texts()
    assert any("sftp> ls ." in t and "invoice-0042.xml" in t for t in transcript), transcript
    # What was typed stays in the box, like a shell.
    assert page.locator("#f-script").input_value() == f"cd {remote}\nls ."
    shot(page, "console-shell")


def test_mq_send_message_is_logged_by_a_channel(
    logged_in: Any, console: str, portway_server: ServerHandle
) -> None:
    _needs_type(portway_server, "ibm_mq")
    page = logged_in
    page.goto(console + "/connections/ibm_mq/new")
    page.fill("#f-name", "QM1")
    page.fill("#f-backend", "memory:CONSOLEQM")
    page.fill("#f-queue_manager", "CONSOLEQM")
    page.click("button:has-text('Create')")
    page.wait_for_selector("text=The connection was saved.")
    page.click("button:has-text('Ping')")
    page.wait_for_selector("text=Ping OK in")
    page.goto(console + "/channels/ibm_mq/new")
    page.fill("#f-name", "orders in")
    page.fill("#f-connection", "QM1")
    page.fill("#f-queue", "DEV.QUEUE.1")
    page.fill("#f-service", "portway.log-message")
    page.click("button:has-text('Create')")
    page.wait_for_selector("text=The channel was saved.")
    page.goto(console + "/connections/ibm_mq/QM1/actions/send")
    page.fill("#f-queue", "DEV.QUEUE.1")
    page.fill("#f-data", "hello from the console")
    shot(page, "console-mq-send")
    page.click("button:has-text('Run')")
    page.wait_for_selector("section.result")
    assert "DEV.QUEUE.1" in page.locator("section.result").inner_text()
    line = re.search(
        r".*message_received.*", wait_for_log(portway_server.env, r"message_received.*hello from the console")
    )
    assert line is not None
    assert "channel='orders in'" in line.group(0)
    assert "payload='hello from the console'" in line.group(0)
    assert "service=portway.log-message" in line.group(0)


def test_ftp_shell_against_pyftpdlib(
    logged_in: Any, console: str, portway_server: ServerHandle, tmp_path: Path
) -> None:
    _needs_type(portway_server, "ftp")
    demo = pytest.importorskip("portway_ftp.demo_server")
    remote = tmp_path / "ftp-root"
    remote.mkdir()
    (remote / "payments.csv").write_text("id,amount\n1,10\n")
    server = demo.DemoServer()
    port = server.listen("plain", demo.HandlerOptions(root=remote, user="demo", password="demo-pass-1"))
    server.start()
    try:
        page = logged_in
        page.goto(console + "/connections/ftp/new")
        page.fill("#f-name", "Partner FTP")
        page.fill("#f-host", "127.0.0.1")
        page.fill("#f-port", str(port))
        page.fill("#f-username", "demo")
        page.fill("#f-password", "demo-pass-1")
        assert page.locator("#f-tls").input_value() == "none"
        page.click("button:has-text('Create')")
        page.wait_for_selector("text=The connection was saved.")
        assert "demo-pass-1" not in page.content()
        page.click("button:has-text('Ping')")
        page.wait_for_selector("text=Ping OK in")
        page.click("a:has-text('execute')")
        page.fill("#f-script", "ls")
        page.click("button:has-text('Run')")
        page.wait_for_selector("pre.transcript")
        transcript = page.locator("pre.transcript").all_inner_texts()
        assert any("payments.csv" in t for t in transcript), transcript
    finally:
        server.stop()
