"""The store going away: servers keep serving the code they have, log it once, catch up when it is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_kit import Cluster, hello, make_cluster, until
from pgcluster import PgCluster, missing

from portway.testing import run_cli

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


@pytest.fixture
def own_pg() -> Iterator[PgCluster]:
    """A PostgreSQL of this test's own, which it stops and starts."""
    cluster = PgCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_servers_ride_out_a_store_outage_and_catch_up(own_pg: PgCluster, tmp_path: Path) -> None:
    group: Cluster = make_cluster(tmp_path, own_pg.new_database(), size=2)
    service = tmp_path / "hello.py"
    try:
        group.start()
        service.write_text(hello("before"))
        assert run_cli("deploy", "push", group.nodes[0].env.root, service).exit_code == 0
        assert until(lambda: group.answers() == [{"from": "before"}] * 2)
        own_pg.pause()
        time.sleep(6)  # several poll, listen and heartbeat rounds without a store
        assert group.answers() == [{"from": "before"}] * 2
        own_pg.resume()
        service.write_text(hello("after"))
        pushed = until(lambda: run_cli("deploy", "push", group.nodes[1].env.root, service).exit_code == 0, 20)
        assert pushed
        assert until(lambda: group.answers() == [{"from": "after"}] * 2, 20), group.answers()
    finally:
        group.stop()
    for node in group.nodes:
        text = (node.env.logs_dir / "server.log").read_text()
        for event in ("config_listen_failed", "heartbeat_failed", "background_task_failed"):
            assert text.count(f"{event} ") <= 1, (event, node.env.root)
