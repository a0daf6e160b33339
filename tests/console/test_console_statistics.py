"""The statistics page in Chromium: the numbers, sorting, and rows refreshed without a reload."""

from __future__ import annotations

import re
from typing import Any

import pytest
from console_access import Admin, log_in

from portway.testing import ServerHandle

pytestmark = pytest.mark.browser


@pytest.fixture
def portway_server(shared_server: ServerHandle) -> ServerHandle:
    return shared_server


@pytest.fixture
def admin(shared_admin: Admin) -> Admin:
    return shared_admin


def _calls(server: ServerHandle, name: str) -> int:
    status, body = server.request("GET", "/admin/api/stats")
    assert status == 200, body
    return next((row["5m"]["calls"] for row in body["services"] if row["name"] == name), 0)


def test_statistics_page_shows_counts_sorts_and_refreshes(
    page: Any, console: str, admin: Admin, portway_server: ServerHandle
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None
        ),
    )
    for _ in range(3):
        portway_server.invoke("portway.ping")
    before = _calls(portway_server, "portway.ping")
    log_in(page, console, admin)
    page.wait_for_url(re.compile(r".*/admin/$"))
    page.click("nav >> text=Statistics")
    row = page.locator("#stats tbody tr", has_text="portway.ping")
    assert row.locator("td").nth(1).inner_text() == str(before)
    assert row.locator("svg.spark polyline").count() == 1
    page.click("#stats th >> text=Service")
    page.wait_for_url(re.compile(r".*sort=name.*"))
    names = page.locator("#stats tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names, reverse=True) or names == sorted(names)
    for _ in range(2):
        portway_server.invoke("portway.ping")
    url = page.url
    # The script fetches the rows again (every 5 s): the new count shows with no navigation.
    page.wait_for_function(
        "n => [...document.querySelectorAll('#stats tbody tr')].some("
        "r => r.cells[0].innerText === 'portway.ping' && r.cells[1].innerText === String(n))",
        arg=before + 2,
        timeout=15_000,
    )
    assert page.url == url
    assert not problems, problems  # no CSP violation, no failed fetch


def test_dashboard_lists_no_channel_errors_when_none_failed(page: Any, console: str, admin: Admin) -> None:
    log_in(page, console, admin)
    page.wait_for_url(re.compile(r".*/admin/$"))
    assert page.locator("h2", has_text="Channel errors").count() == 0
