"""The console's browse page for a queue, on a real server with a logged-in admin (ibmmq backend)."""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from portway.runtime import Runtime


def _console_access() -> Any:
    """The console tests' helpers (admin user, login without a browser), under a name of their own."""
    path = Path(__file__).parent.parent / "console" / "console_access.py"
    if not path.exists():
        pytest.skip("the console test helpers (tests/console/console_access.py) are not in this tree")
    spec = importlib.util.spec_from_file_location("portway_console_test_access", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["ibmmq"], indirect=True)
def test_browse_page_lists_a_queues_messages_with_their_jms_headers_and_depth(tmp_path, server_settings):
    access = _console_access()
    env = access.make_env(tmp_path)
    admin = access.add_admin(env)
    runtime = Runtime(env)
    try:
        runtime.catalog.create("connection", "ibm_mq", "QM", server_settings)
    finally:
        runtime.close()
    with access.running(env):
        client = access.ConsoleClient(env.base_url + "/admin")
        client.log_in(admin)
        send = "/connections/ibm_mq/QM/actions/send"
        sent = []
        for data, jms in (("hello console", ""), ("to a JMS consumer", "true")):
            form = {
                "csrf": client.csrf(send),
                "queue": "DEV.QUEUE.1",
                "data": data,
                "priority": "5",
                "jms": jms,
            }
            page = client.post(send, form)
            assert page.status_code == 200, page.text
            sent.append(re.search(r"<th>msg_id</th><td><code>([0-9a-f]{48})</code>", page.text).group(1))
        browse = "/connections/ibm_mq/QM/actions/browse"
        page = client.post(browse, {"csrf": client.csrf(browse), "queue": "DEV.QUEUE.1", "limit": "10"})
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert "<th>depth</th><td><code>2</code>" in text
    table = text[text.index('<table class="records">') :]
    columns = re.findall(r"<th>([^<]*)</th>", table[: table.index("</thead>")])
    assert columns[:4] == ["#", "msg_id", "correl_id", "put_at"] and "JMSDestination" in columns
    rows = [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]]
    cell = {name: index for index, name in enumerate(columns)}
    assert [row[cell["msg_id"]] for row in rows] == sent
    assert [row[cell["body"]] for row in rows] == ["hello console", "to a JMS consumer"]
    assert [row[cell["jms"]] for row in rows] == ["", "jms_text"]
    assert rows[1][cell["JMSDestination"]] == "queue:///DEV.QUEUE.1"
