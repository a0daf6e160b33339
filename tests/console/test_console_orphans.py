"""Issue 18 item 9: connections and channels whose plugin is disabled are shown, logged and exported.

An environment gets an ``echo`` connection and an ``ibm_mq`` connection and
channel, then both plugins are disabled. The real server starts anyway,
logs each orphaned item, and the console's dashboard lists them with the
reason; its channel is not listed a second time as a failed channel.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from console_access import Admin, ConsoleClient, make_env, wait_for_log

from portway import environment
from portway.environment import Environment
from portway.testing import ServerHandle, create_connection


@pytest.fixture
def portway_env(tmp_path: Path) -> Environment:
    from portway.runtime import Runtime

    env = make_env(tmp_path)
    runtime = Runtime(env)
    try:
        create_connection(runtime, "echo", "e1", {"host": "127.0.0.1", "port": 9, "token": "t0ken-1"})
        create_connection(runtime, "ibm_mq", "QM", {"backend": "memory:ORPH", "queue_manager": "ORPH"})
        runtime.catalog.create(
            "channel", "ibm_mq", "in", {"connection": "QM", "queue": "Q.IN", "service": "portway.ping"}
        )
    finally:
        runtime.close()
    text = env.toml_path.read_text().replace("disabled = []", 'disabled = ["echo", "ibm_mq"]')
    env.toml_path.write_text(text)
    return environment.load(env.root)


def test_orphans_are_logged_at_start_and_on_the_dashboard(
    portway_server: ServerHandle, console: str, admin: Admin
) -> None:
    log = wait_for_log(portway_server.env, "orphaned_item")
    for kind, type_name, name in (
        ("connection", "echo", "e1"),
        ("connection", "ibm_mq", "QM"),
        ("channel", "ibm_mq", "in"),
    ):
        line = next(text for text in log.splitlines() if "orphaned_item" in text and f"name={name}" in text)
        assert f"kind={kind}" in line and f"type={type_name}" in line and "is disabled" in line, line
    client = ConsoleClient(console)
    client.log_in(admin)
    page = client.get("/")
    assert page.status_code == 200
    rows = [row for row in page.text.split("<tr")[1:] if row.startswith(' class="failed orphan"')]
    assert len(rows) == 3, page.text
    echo = next(row for row in rows if "e1" in row)
    assert "connection without its type" in echo and "echo e1" in echo
    assert "its plugin &#39;echo&#39; is disabled in portway.toml" in echo
    assert "channel without its type" in page.text
    assert page.text.count("ibm_mq in<") == 1  # not again as a channel that failed to start
