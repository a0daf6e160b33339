"""Console login through a real browser against the real server: password + TOTP."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from console_access import Admin, log_in, server_log, shot, wait_for_log

from portway.testing import ServerHandle

pytestmark = pytest.mark.browser


def test_password_then_totp_code_logs_in(page: Any, console: str, admin: Admin) -> None:
    page.goto(console + "/")
    page.wait_for_url(re.compile(r".*/admin/login$"))
    shot(page, "console-login")
    page.fill("#username", admin.name)
    page.fill("#password", admin.password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/login/factor$"))
    # The password alone is not a login: the dashboard still sends us back.
    page.goto(console + "/")
    page.wait_for_url(re.compile(r".*/admin/login$"))
    log_in(page, console, admin)
    page.wait_for_url(re.compile(r".*/admin/$"))
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator(".who").inner_text() == admin.name
    # The dashboard lists built-in services and every plugin, failed ones with their reason.
    assert page.locator("text=portway.ping").count() >= 1
    assert page.locator("tr.failed", has_text="broken").count() == 1
    shot(page, "console-dashboard")


def test_wrong_code_is_refused(page: Any, console: str, admin: Admin, portway_server: ServerHandle) -> None:
    wrong = "000000" if admin.code() != "000000" else "111111"
    log_in(page, console, admin, code=wrong)
    page.wait_for_selector("text=Wrong code")
    assert page.url.endswith("/login/factor")
    page.goto(console + "/")
    page.wait_for_url(re.compile(r".*/admin/login$"))
    wait_for_log(portway_server.env, r"console_login_failed.*stage=second_factor")


def test_replayed_code_is_refused(page: Any, console: str, admin: Admin) -> None:
    code = admin.code()
    log_in(page, console, admin, code=code)
    page.wait_for_url(re.compile(r".*/admin/$"))
    page.click("button:has-text('Log out')")
    page.wait_for_url(re.compile(r".*/admin/login$"))
    log_in(page, console, admin, code=code)
    page.wait_for_selector("text=used already")
    assert page.url.endswith("/login/factor")


def test_repeated_wrong_passwords_lock_the_account(
    page: Any, console: str, admin: Admin, portway_server: ServerHandle
) -> None:
    for _ in range(5):
        page.goto(console + "/login")
        page.fill("#username", admin.name)
        page.fill("#password", "not the password")
        page.click("button:has-text('Log in')")
        page.wait_for_selector(".error")
    # Now even the right password is refused until the lockout ends.
    page.goto(console + "/login")
    page.fill("#username", admin.name)
    page.fill("#password", admin.password)
    page.click("button:has-text('Log in')")
    page.wait_for_selector("text=Too many failed attempts")
    assert page.url.endswith("/login")
    text = wait_for_log(portway_server.env, r"console_lockout")
    assert re.search(r"console_lockout.*failures=5.*key=user:alice", text)
    assert re.search(r"console_lockout.*key=client:127\.0\.0\.1", text)


def test_repeated_wrong_codes_lock_the_second_step(page: Any, console: str, admin: Admin) -> None:
    page.goto(console + "/login")
    page.fill("#username", admin.name)
    page.fill("#password", admin.password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/login/factor$"))
    good = admin.code()
    wrong = "123456" if good != "123456" else "654321"
    for _ in range(5):
        page.fill("#code", wrong)
        page.click("button:has-text('Verify')")
        page.wait_for_selector(".error")
    page.fill("#code", good)
    page.click("button:has-text('Verify')")
    page.wait_for_selector("text=Too many failed attempts")
    page.goto(console + "/")
    page.wait_for_url(re.compile(r".*/admin/login$"))


def test_key_rotation_needs_a_code_from_the_new_key(page: Any, console: str, admin: Admin) -> None:
    import pyotp

    log_in(page, console, admin)
    page.wait_for_url(re.compile(r".*/admin/$"))
    page.click("nav >> text=Account")
    page.click("button:has-text('Rotate my key')")
    img = page.locator("img.qr")
    assert img.get_attribute("src").startswith("data:image/svg+xml;base64,")
    uri = page.locator("code.uri").inner_text()
    assert uri.startswith("otpauth://totp/portway:alice?")
    new_secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert new_secret != admin.secret
    shot(page, "console-rotate-key")
    # A code from the old key does not confirm the new one; the old key stays active.
    page.fill("#code", admin.code(offset_steps=1))
    page.click("button:has-text('Confirm the new key')")
    page.wait_for_selector("text=does not match the new key")
    page.fill("#code", pyotp.TOTP(new_secret).now())
    page.click("button:has-text('Confirm the new key')")
    page.wait_for_selector("text=The new key is active")
    page.click("button:has-text('Log out')")
    # The old key no longer logs in; the new one does (next step: this one was just used).
    log_in(page, console, admin, code=admin.code(offset_steps=1))
    page.wait_for_selector("text=Wrong code")
    page.fill("#code", pyotp.TOTP(new_secret).at(time.time() + 30))
    page.click("button:has-text('Verify')")
    page.wait_for_url(re.compile(r".*/admin/$"))


def test_lockout_is_logged_with_counts(portway_server: ServerHandle, admin: Admin) -> None:
    from console_access import ConsoleClient

    client = ConsoleClient(portway_server.url + "/admin")
    for _ in range(6):
        token = client.csrf("/login")
        client.post("/login", {"csrf": token, "username": "mallory", "password": "guess-guess"})
    text = server_log(portway_server.env)
    assert re.search(r"console_login_failed.*failures=4.*key=user:mallory", text)
    assert re.search(r"console_lockout.*failures=5.*key=user:mallory", text)
