"""The real backend. Runs against a queue manager when PORTWAY_MQ_URL names one:

    PORTWAY_MQ_URL='mq://app:passw0rd@127.0.0.1:1414/QM1?channel=DEV.APP.SVRCONN&queue=DEV.QUEUE.1'

(the defaults of IBM's developer container image). Without it those tests
are skipped with that reason.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from portway_ibm_mq.client import MQClient
from portway_ibm_mq.settings import MQConnectionSettings

HAS_LIBRARY = any(importlib.util.find_spec(name) for name in ("ibmmq", "pymqi"))
URL = os.environ.get("PORTWAY_MQ_URL", "")


def real_settings() -> tuple[MQConnectionSettings, str]:
    if not URL:
        pytest.skip("PORTWAY_MQ_URL is not set: no IBM MQ queue manager to test the real backend against")
    if not HAS_LIBRARY:
        pytest.skip("PORTWAY_MQ_URL is set but neither ibmmq nor pymqi is installed (extra 'real')")
    url = urlparse(URL)
    query = parse_qs(url.query)
    settings = MQConnectionSettings(
        backend="ibmmq",
        queue_manager=url.path.strip("/"),
        conn_name=f"{url.hostname}({url.port or 1414})",
        server_channel=query.get("channel", ["DEV.APP.SVRCONN"])[0],
        user=unquote(url.username or ""),
        password=unquote(url.password or "") or None,
    )
    return settings, query.get("queue", ["DEV.QUEUE.1"])[0]


MISSING_LIBRARY = """
import sys
from portway import environment
from portway.errors import ConnectionFailed
from portway.runtime import Runtime

runtime = Runtime(environment.create(sys.argv[1]))
runtime.catalog.create("connection", "ibm_mq", "REAL", {"backend": "ibmmq", "queue_manager": "QM1"})
try:
    runtime.connections.ping("ibm_mq", "REAL")
except ConnectionFailed as exc:
    print(exc.reason)
finally:
    runtime.close()
"""


def test_missing_client_library_is_named_with_what_to_install(tmp_path):
    # In a process of its own: this one has ibmmq loaded over the stand-in for its C extension.
    command = [sys.executable, "-c", MISSING_LIBRARY, str(tmp_path / "env")]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    reason = result.stdout
    assert "IBM MQ client library is not available" in reason
    assert "portway-ibm-mq[real]" in reason and "memory:NAME" in reason
    if importlib.util.find_spec("ibmmq"):  # the wheel without IBM's C library, as in CI: say which file
        assert "import ibmmq: libmqm_r.so: cannot open shared object file" in reason


def test_real_ping_send_get_and_backout():
    settings, queue = real_settings()
    with MQClient.open(settings) as client:
        assert client.ping() == settings.queue_manager or settings.queue_manager == ""
        while client.get(queue) is not None:  # start from an empty queue
            pass
        sent = client.send("portway test", queue, priority=4, correlation_id="portway-test")
        session = client.session
        got = session.get(queue, wait_ms=5000, syncpoint=True)
        assert got.md.msg_id == sent.msg_id and got.text == "portway test"
        session.backout()
        again = session.get(queue, wait_ms=5000, syncpoint=True)
        assert again.md.backout_count == 1 and again.md.priority == 4
        session.commit()
        assert client.get(queue) is None


def test_real_request_reply_times_out_with_2033():
    settings, queue = real_settings()
    with MQClient.open(settings) as client, pytest.raises(Exception) as caught:
        client.request("ping?", queue, queue, timeout_s=0.5)
    assert getattr(caught.value, "reason", None) == 2033
    with MQClient.open(settings) as client:
        while client.get(queue) is not None:
            pass
