"""`portway mq send` and `portway mq ping`, in-process and through a running server."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from portway.cli import cli
from portway.runtime import Runtime

TAKE_SERVICE = """
from portway import Service

class Take(Service):
    name = "mq.take"

    def handle(self):
        message = self.out.ibm_mq["QM"].get(self.request.payload["queue"], wait_s=5)
        self.response.payload = None if message is None else {
            "text": message.text, "priority": message.md.priority, "correl_id": message.md.correl_id.hex(),
            "properties": message.properties,
        }
"""


def store_connection(env, settings, name="QM") -> None:
    runtime = Runtime(env)
    try:
        runtime.catalog.create("connection", "ibm_mq", name, settings)
    finally:
        runtime.close()


def test_send_without_a_server_runs_in_process_but_not_on_the_memory_backend(
    portway_env, mq_settings, qm, backend
):
    store_connection(portway_env, mq_settings)
    args = ["mq", "send", str(portway_env.root), "QM", "Q", "--data", "x", "-H", "k=v"]
    result = CliRunner().invoke(cli, args)
    if backend == "memory":  # that queue manager lives inside the server process
        assert result.exit_code == 1
        assert "in-memory queue manager" in result.output and "portway start" in result.output
        return
    assert result.exit_code == 0, result.output
    [message] = qm.messages("Q")
    assert (message.body, message.properties) == (b"x", {"k": "v"})
    assert json.loads(result.stdout)["msg_id"] == message.md.msg_id.hex()


def test_send_needs_exactly_one_body(portway_env, mq_settings):
    store_connection(portway_env, mq_settings)
    result = CliRunner().invoke(cli, ["mq", "send", str(portway_env.root), "QM", "Q"])
    assert result.exit_code == 2 and "exactly one of --data or --file" in result.output


def test_ping_in_process_reports_the_reason_code(portway_env, mq_settings, qm):
    store_connection(portway_env, mq_settings)
    runner = CliRunner()
    ok = runner.invoke(cli, ["mq", "ping", str(portway_env.root), "QM"])
    assert ok.exit_code == 0 and ok.stdout.startswith("OK ")
    qm.users = {"app": "x"}
    failed = runner.invoke(cli, ["mq", "ping", str(portway_env.root), "QM"])
    assert failed.exit_code == 1
    assert "2035 MQRC_NOT_AUTHORIZED" in failed.output


@pytest.fixture
def configured_env(portway_env, server_settings):
    """Connections and the service file in place before the server starts (deployed at boot)."""
    store_connection(portway_env, server_settings)
    store_connection(portway_env, server_settings, name="Demo QM")
    (portway_env.pickup_dirs[0] / "take.py").write_text(textwrap.dedent(TAKE_SERVICE))
    return portway_env


@pytest.mark.slow
def test_send_and_ping_through_the_running_server(configured_env, portway_server):
    # The server process has its own in-memory queue manager: only the admin API reaches it.
    portway_env = configured_env
    runner = CliRunner()
    args = ["mq", "send", str(portway_env.root), "Demo QM", "DEV.QUEUE.1", "--data", "hello"]
    sent = runner.invoke(cli, [*args, "--priority", "6", "--correlation-id", "c1", "-H", "k=v"])
    assert sent.exit_code == 0, sent.output
    md = json.loads(sent.stdout)
    assert md["queue"] == "DEV.QUEUE.1" and md["priority"] == 6 and len(md["msg_id"]) == 48
    where = [str(portway_env.root), "Demo QM", "DEV.QUEUE.1"]
    depth = runner.invoke(cli, ["mq", "depth", *where])
    assert depth.stdout.strip() == "DEV.QUEUE.1: depth 1 (no backout threshold)", depth.output
    listed = runner.invoke(cli, ["mq", "browse", *where])
    assert listed.exit_code == 0 and md["msg_id"] in listed.stdout and "hello" in listed.stdout
    [row] = json.loads(runner.invoke(cli, ["mq", "browse", *where, "--json"]).stdout)["messages"]
    assert (row["body"], row["properties"], row["correl_id"]) == ("hello", "k=v", "6331" + "00" * 22)
    got = portway_server.invoke("mq.take", {"queue": "DEV.QUEUE.1"})
    assert got == {
        "text": "hello",
        "priority": 6,
        "correl_id": "6331" + "00" * 22,
        "properties": {"k": "v"},
    }
    pinged = runner.invoke(cli, ["mq", "ping", str(portway_env.root), "Demo QM"])
    assert pinged.exit_code == 0 and pinged.stdout.startswith("OK ")
