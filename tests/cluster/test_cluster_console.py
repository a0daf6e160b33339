"""The console's Deploy page in Chromium: an upload publishes to all three servers, a broken one to none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster_kit import Cluster, hello, until

from portway.testing import run_cli

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not at /usr/bin/chromium (Debian chromium)"),
]
PASSWORD = "cluster console pw 1"


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        opened = browser.new_context().new_page()
        opened.set_default_timeout(20_000)
        yield opened
        browser.close()


def test_upload_on_the_deploy_page_publishes_to_every_server(
    cluster: Cluster, page: Any, tmp_path: Path
) -> None:
    env = cluster.nodes[1].env
    made = run_cli("admin", "create-user", env.root, "ops", "--password-stdin", input=PASSWORD + "\n")
    assert made.exit_code == 0, made.stderr
    console = env.base_url + "/admin"
    page.goto(console + "/login")
    page.fill("#username", "ops")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/admin/$"))
    assert page.locator("#cluster").count() == 1  # the dashboard shows the servers
    good, broken = tmp_path / "hello.py", tmp_path / "broken.py"
    good.write_text(hello("uploaded"))
    broken.write_text("x = (\n")
    page.goto(console + "/deploy")
    page.set_input_files("#files", [str(broken)])
    page.click("button:has-text('Publish')")
    assert "Refused: nothing was published" in page.content()
    assert "broken.py:1" in page.content()
    page.set_input_files("#files", [str(good)])
    page.fill("#folder", "team")
    page.click("button:has-text('Publish')")
    assert "Published: code revision" in page.content()
    assert until(lambda: cluster.answers() == [{"from": "uploaded"}] * 3), cluster.answers()
    page.goto(console + "/deploy")
    assert "team/hello.py" in page.content()
