"""Fixtures for the IBM MQ plugin: an in-memory queue manager, an environment
with an ``ibm_mq`` connection to it, and a runtime booted with a channel.

Every test that takes ``mq_settings`` (or a fixture built on it) runs twice:
on the ``memory`` backend, and on the ``ibmmq`` backend, where IBM's own
Python layer (the ``ibmmq`` package) runs over :mod:`ibmmqc_standin`, a
stand-in for its C extension that serves the same in-memory queue manager.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ibmmqc_standin
import mq_probe
import pytest

from portway.environment import Environment
from portway.runtime import Runtime
from portway_ibm_mq import memory
from portway_ibm_mq.backend import open_session
from portway_ibm_mq.client import MQClient
from portway_ibm_mq.memory import MemoryQueueManager
from portway_ibm_mq.reasons import MQError
from portway_ibm_mq.session import Session
from portway_ibm_mq.settings import MQConnectionSettings

RECORD_SERVICE = """
from portway import Service
from mq_probe import probe

class Record(Service):
    name = "mq.record"

    def handle(self):
        r = self.request
        probe.handle(r.payload, r.mq, r.headers, r.jms, r.properties)
"""


@pytest.fixture
def qm(request: pytest.FixtureRequest) -> Iterator[MemoryQueueManager]:
    """A fresh in-memory queue manager, shared by name as ``memory:<name>``."""
    name = "T" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    memory.forget(name)
    manager = memory.queue_manager(name)
    yield manager
    memory.forget(name)


@pytest.fixture
def probe() -> Iterator[mq_probe.Probe]:
    mq_probe.reset()
    yield mq_probe.probe
    # Release anything a test left blocked so consumer threads can end.
    for gate in mq_probe.probe.block.values():
        gate.set()


@pytest.fixture(scope="session")
def ibmmq() -> Any:
    """IBM's ``ibmmq`` package, loaded over the stand-in for its C extension."""
    return ibmmqc_standin.install()


@pytest.fixture(params=["memory", "ibmmq"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend a test runs on; the ``ibmmq`` one goes through IBM's Python layer."""
    if request.param == "ibmmq":
        request.getfixturevalue("ibmmq")
    return str(request.param)


@pytest.fixture
def mq_settings(qm: MemoryQueueManager, backend: str) -> Iterator[dict[str, Any]]:
    """Settings of a connection to ``qm`` through ``backend``."""
    if backend == "memory":
        yield {"backend": f"memory:{qm.name}", "queue_manager": qm.name, "reconnect_initial_s": 0.02}
        return
    conn_name = ibmmqc_standin.address_for(qm.name)
    ibmmqc_standin.listen(conn_name, qm)
    yield {
        "backend": "ibmmq",
        "queue_manager": qm.name,
        "conn_name": conn_name,
        "server_channel": "DEV.APP.SVRCONN",
        "reconnect_initial_s": 0.02,
    }
    ibmmqc_standin.stop_listening(conn_name)


@pytest.fixture
def server_settings(backend: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Settings of a connection to the server process's queue manager CLI, through ``backend``.

    For ``ibmmq`` the server loads IBM's layer over the stand-in at start: a
    test-only ``sitecustomize`` on its PYTHONPATH, and a listener for CLI.
    """
    if backend == "memory":
        return {"backend": "memory:CLI"}
    conn_name = ibmmqc_standin.address_for("CLI")
    site = Path(__file__).parent / "server_site"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("PORTWAY_TEST_MQ_LISTENERS", f"{conn_name}=CLI")
    return {"backend": "ibmmq", "queue_manager": "CLI", "conn_name": conn_name}


@pytest.fixture
def connect(mq_settings: dict[str, Any]) -> Iterator[Callable[..., Session]]:
    """``connect(user=, password=, queue_manager=)``: a session on the test's queue manager and backend."""
    opened: list[Session] = []

    def make(user: str = "", password: str = "", queue_manager: str | None = None) -> Session:
        settings = {**mq_settings, "user": user, "password": password or None}
        if queue_manager is not None:
            settings["queue_manager"] = queue_manager
        session = open_session(MQConnectionSettings.model_validate(settings))
        opened.append(session)
        return session

    yield make
    for session in opened:
        with contextlib.suppress(MQError):
            session.close()


@pytest.fixture
def make_runtime(
    portway_env: Environment, mq_settings: dict[str, Any], probe: mq_probe.Probe
) -> Iterator[Callable[..., Runtime]]:
    """``make_runtime(channel={...}, services={file: source})``: a booted runtime.

    The connection ``QM`` is stored first, service files are dropped into the
    pickup folder, then the channel config is stored, and the runtime boots
    and starts the channel from that config.
    """
    made: list[Runtime] = []

    def make(
        channel: dict[str, Any] | None = None,
        services: dict[str, str] | None = None,
        channel_name: str = "IN",
    ) -> Runtime:
        first = not made
        runtime = Runtime(portway_env)
        if first:
            runtime.catalog.create("connection", "ibm_mq", "QM", mq_settings)
            for filename, source in {"record.py": RECORD_SERVICE, **(services or {})}.items():
                (portway_env.pickup_dirs[0] / filename).write_text(textwrap.dedent(source))
            if channel is not None:
                config = {"connection": "QM", "queue": "IN", "service": "mq.record", "wait_interval_ms": 50}
                runtime.catalog.create("channel", "ibm_mq", channel_name, {**config, **channel})
        runtime.boot()
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


@pytest.fixture
def sender(qm: MemoryQueueManager, mq_settings: dict[str, Any]) -> Iterator[MQClient]:
    """A client of its own on the test's queue manager, to put and get test messages."""
    client = MQClient.open(MQConnectionSettings.model_validate(mq_settings))
    yield client
    client.close()
