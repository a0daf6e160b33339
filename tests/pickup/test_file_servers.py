"""The ``file`` channel in real server processes: kill -9 mid-service, two servers on one PostgreSQL store."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pickup_kit import FAST, RECORDER, Recorded, wait_for

from portway import environment
from portway.cli.env import _start
from portway.database import Database
from portway.environment import Environment
from portway.runtime import Runtime
from portway.serverlock import holder
from portway.testing import allow_files, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cluster"))
from cluster_kit import Cluster, make_cluster


def configure(env: Environment, recorded: Recorded, inbox: Path, **settings: Any) -> None:
    (env.pickup_dirs[0] / "recorder.py").write_text(RECORDER.format(log=str(recorded.path)))
    runtime = Runtime(env)
    try:
        runtime.catalog.create(
            "channel", "file", "in", {"service": "pickup.record", "folder": str(inbox), **FAST, **settings}
        )
    finally:
        runtime.close()


def stop(env: Environment, sig: int = signal.SIGTERM) -> None:
    server = holder(env.lock_path)
    if server is not None and server.signal(sig):
        server.wait_exit(60)


def test_a_file_whose_service_was_killed_is_delivered_again_and_nothing_is_lost(
    tmp_path: Path, inbox: Path, recorded: Recorded
) -> None:
    env = allow_files(environment.create(tmp_path / "env", port=free_port()), tmp_path)
    configure(env, recorded, inbox, read_lock="none")
    recorded.slow(60)
    for name, text in (("a.txt", "first"), ("b.txt", "SLOW"), ("c.txt", "third")):
        (inbox / name).write_text(text)
    _start(env, wait_s=60)
    try:
        wait_for(lambda: "b.txt" in recorded.started(), what="b.txt in its service")
        stop(env, signal.SIGKILL)
        assert (inbox / "b.txt").exists()  # never moved
        recorded.slow(None)
        _start(env, wait_s=60)
        recorded.wait(3)
        wait_for(lambda: sorted(p.name for p in inbox.iterdir()) == [".done"], what="all moved")
        time.sleep(1.0)
        assert sorted(recorded.names()) == ["a.txt", "b.txt", "c.txt"]  # each finished once
        assert Counter(recorded.started())["b.txt"] == 2  # the killed delivery, then the one that finished
    finally:
        stop(env)


def lease_holder_pid(pg_url: str) -> int | None:
    db = Database.open(pg_url)
    try:
        with db.transaction() as tx:
            holder_id = tx.scalar("SELECT holder FROM leases WHERE name = 'file:in'")
    finally:
        db.close()
    return int(holder_id.split(":")[1]) if holder_id else None


def test_two_servers_on_one_store_deliver_each_file_once_and_take_over(
    tmp_path: Path, pg_url: str, inbox: Path, recorded: Recorded
) -> None:
    group: Cluster = make_cluster(tmp_path, pg_url, size=2)
    configure(group.nodes[0].env, recorded, inbox, read_lock="none")
    for node in group.nodes:  # each server deploys the recorder from its own folder
        (node.env.pickup_dirs[0] / "recorder.py").write_text(RECORDER.format(log=str(recorded.path)))
    try:
        group.start()
        for index in range(20):
            (inbox / f"first-{index:02d}.txt").write_text(str(index))
        recorded.wait(20, 30)
        pid = lease_holder_pid(pg_url)
        poller = next(node for node in group.nodes if node.pid() == pid)
        poller.kill()
        for index in range(10):
            (inbox / f"second-{index:02d}.txt").write_text(str(index))
        recorded.wait(30, 20)  # the lease's takeover (< 10 s) and the polls
        time.sleep(1.0)
        counts = Counter(recorded.names())
        assert len(counts) == 30 and set(counts.values()) == {1}, counts
        assert lease_holder_pid(pg_url) not in (None, pid)
    finally:
        group.stop()


def test_channel_status_shows_the_poll_counts_lease_and_errors(
    tmp_path: Path, inbox: Path, recorded: Recorded
) -> None:
    from portway.testing import run_cli

    env = allow_files(environment.create(tmp_path / "env", port=free_port()), tmp_path)
    configure(env, recorded, inbox, read_lock="none")
    (inbox / "good.txt").write_text("fine")
    (inbox / "bad.txt").write_text("FAIL")
    _start(env, wait_s=60)
    try:
        recorded.wait(2)
        wait_for(lambda: (inbox / ".error" / "bad.txt").exists(), what="error folder")
        shown = run_cli("channel", "status", env.root, "file", "in", "--json")
        assert shown.exit_code == 0, shown.stderr
        report = json.loads(shown.stdout)
        assert report["running"] and report["lease_held"] and report["lease_holder"]
        assert report["done"] == 1 and report["failed"] == 1 and report["last_poll"]
        assert "told to fail" in report["last_errors"][-1]["error"]
        text = run_cli("channel", "status", env.root, "file", "in")
        assert "done 1" in text.stdout and "lease file:in" in text.stdout
        missing = run_cli("channel", "status", env.root, "file", "nope")
        assert missing.exit_code != 0 and "nope" in missing.stderr
    finally:
        stop(env)
