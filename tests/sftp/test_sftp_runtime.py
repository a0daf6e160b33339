"""End to end: a deployed service uses ``self.out.sftp[name].conn`` through the kernel's pool."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVICE = textwrap.dedent(
    """
    from portway import Service

    class Transfer(Service):
        name = "files.transfer"

        def handle(self):
            conn = self.out.sftp["bank"].conn
            folder = self.request.payload["folder"]
            conn.write(self.request.payload["text"], folder + "/in.txt")
            self.response.payload = {
                "connection": conn.id,
                "data": conn.read(folder + "/in.txt").decode(),
                "names": [info.name for info in conn.list(folder)],
                "transcript": conn.execute("cd " + folder + "\\nls -1"),
            }
    """
)


@pytest.fixture
def runtime(sshd: Any, tmp_path: Path) -> Iterator[Any]:
    from portway import environment
    from portway.runtime import Runtime
    from portway.testing import allow_files

    env = allow_files(environment.create(tmp_path / "env"), sshd.folder, tmp_path)
    (tmp_path / "env" / "services" / "transfer.py").write_text(SERVICE)
    rt = Runtime(env)
    rt.boot()
    try:
        yield rt
    finally:
        rt.close()
    assert env is not None


def test_service_uses_pooled_connection(runtime: Any, sshd: Any, remote_dir: Path) -> None:
    runtime.catalog.create("connection", "sftp", "bank", sshd.settings())
    runtime.refresh()
    first = runtime.invoke("files.transfer", {"folder": str(remote_dir), "text": "one"}).payload
    second = runtime.invoke("files.transfer", {"folder": str(remote_dir), "text": "two"}).payload
    assert first["data"] == "one" and second["data"] == "two"
    assert first["names"] == ["in.txt"]
    assert first["transcript"].splitlines()[-1] == "in.txt"
    assert first["connection"] == second["connection"]  # reused, not reopened
    assert runtime.connections.pool("sftp", "bank").stats()["live"] == 1


def test_dropped_connection_is_replaced(runtime: Any, sshd: Any, remote_dir: Path) -> None:
    runtime.catalog.create("connection", "sftp", "bank", sshd.settings(), pool={"check_after_s": 0})
    runtime.refresh()
    before = set(sshd.session_pids())
    first = runtime.invoke("files.transfer", {"folder": str(remote_dir), "text": "one"}).payload
    for pid in set(sshd.session_pids()) - before:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    second = runtime.invoke("files.transfer", {"folder": str(remote_dir), "text": "two"}).payload
    assert second["data"] == "two"
    assert second["connection"] != first["connection"]
    assert runtime.connections.pool("sftp", "bank").stats()["live"] == 1
    pool = _pool_metrics(runtime)  # what /metrics says of the real pool
    assert pool["portway_pool_pings_failed_total"] == 1  # the dead client failed its check
    assert pool["portway_pool_broken_replaced_total"] == 0
    assert pool["portway_pool_borrow_wait_seconds_count"] == 2
    assert pool["portway_pool_in_use"] == 0 and pool["portway_pool_waiters"] == 0


def test_call_on_dropped_connection_fails_clearly_then_recovers(
    runtime: Any, sshd: Any, remote_dir: Path
) -> None:
    from portway.invocation import ServiceFailed

    runtime.catalog.create("connection", "sftp", "bank", sshd.settings())  # no check before lending
    runtime.refresh()
    before = set(sshd.session_pids())
    runtime.invoke("files.transfer", {"folder": str(remote_dir), "text": "one"})
    for pid in set(sshd.session_pids()) - before:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    with pytest.raises(ServiceFailed, match="ConnectionLost: .*the SSH connection dropped"):
        runtime.invoke("files.transfer", {"folder": str(remote_dir), "text": "two"})
    again = runtime.invoke("files.transfer", {"folder": str(remote_dir), "text": "three"}).payload
    assert again["data"] == "three"
    pool = _pool_metrics(runtime)
    assert pool["portway_pool_broken_replaced_total"] == 1  # the call that broke it discarded it
    assert pool["portway_pool_pings_failed_total"] == 0
    assert pool["portway_pool_borrow_wait_seconds_count"] == 3


def _pool_metrics(runtime: Any) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    from portway.server.metrics import Scrape

    text = Scrape(runtime).render()[0].decode()
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("portway_pool_") and s.labels.get("name") == "bank" and "le" not in s.labels
    }


def test_ping_and_actions(runtime: Any, sshd: Any, remote_dir: Path, tmp_path: Path) -> None:
    from portway.errors import ConnectionFailed
    from portway_sftp.plugin import CONNECTION_TYPE, ExecuteArguments, NoArguments

    runtime.catalog.create("connection", "sftp", "bank", sshd.settings())
    runtime.catalog.create(
        "connection", "sftp", "stranger", sshd.settings(known_hosts_file=str(tmp_path / "none"))
    )
    runtime.refresh()
    assert runtime.connections.ping("sftp", "bank") > 0
    with pytest.raises(ConnectionFailed, match="is not in"):
        runtime.connections.ping("sftp", "stranger")

    actions = {a.name: a for a in CONNECTION_TYPE.actions}
    pool = runtime.connections.pool("sftp", "bank")
    client = pool.borrow()
    try:
        done = actions["execute"].run(client, ExecuteArguments(script=f"cd {remote_dir}\npwd"))
        assert done == {
            "ok": True,
            "transcript": f"sftp> cd {remote_dir}\nsftp> pwd\nRemote working directory: {remote_dir}\n",
        }
        failed = actions["execute"].run(client, ExecuteArguments(script="cd /nonexistent-dir"))
        assert failed["ok"] is False and "No such file" in failed["transcript"]
        assert actions["ping"].run(client, NoArguments())["ms"] > 0
    finally:
        pool.give_back(client)


def test_bad_settings_are_refused_before_storing(runtime: Any, sshd: Any) -> None:
    from portway.errors import SettingError

    with pytest.raises(SettingError, match="ssh_options"):
        runtime.catalog.create("connection", "sftp", "bad", sshd.settings(ssh_options=["Tunnel=yes"]))
    with pytest.raises(SettingError, match="host_key_policy"):
        runtime.catalog.create("connection", "sftp", "bad", sshd.settings(host_key_policy="none"))
    assert runtime.catalog.list("connection", "sftp") == []
