"""The other ways to publish: `portway deploy push` (with and without a server) and a publishing folder."""

from __future__ import annotations

from pathlib import Path

from cluster_kit import Cluster, hello, make_cluster, until

from portway import environment
from portway.testing import run_cli


def test_deploy_push_through_the_running_server_reaches_all(cluster: Cluster, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "billing").mkdir(parents=True)
    (src / "billing" / "hello.py").write_text(hello("pushed"))
    result = run_cli("deploy", "push", cluster.nodes[0].env.root, src)
    assert result.exit_code == 0, result.stderr
    assert "added     billing/hello.py" in result.stdout
    assert until(lambda: cluster.answers() == [{"from": "pushed"}] * 3), cluster.answers()
    again = run_cli("deploy", "push", cluster.nodes[1].env.root, src)
    assert "unchanged billing/hello.py" in again.stdout
    (src / "billing" / "hello.py").unlink()
    (src / "other.py").write_text(hello("o", "o.o"))
    swept = run_cli("deploy", "push", cluster.nodes[2].env.root, src, "--delete-missing")
    assert "removed   billing/hello.py" in swept.stdout and "added     other.py" in swept.stdout
    assert until(lambda: all(n.answer() is None and n.answer("o.o") for n in cluster.nodes))


def test_deploy_push_refuses_a_broken_file_naming_it(cluster: Cluster, tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("from portway import Service\nimport no_such_module_here\n")
    result = run_cli("deploy", "push", cluster.nodes[0].env.root, broken)
    assert result.exit_code != 0
    assert "broken.py:2" in result.error and "no_such_module_here" in result.error, result.stderr
    assert "nothing was published" in result.error


def test_deploy_push_without_a_server_writes_the_store_and_servers_start_on_it(
    pg_url: str, tmp_path: Path
) -> None:
    group = make_cluster(tmp_path, pg_url, size=2)
    service = tmp_path / "hello.py"
    service.write_text(hello("offline"))
    result = run_cli("deploy", "push", group.nodes[0].env.root, service)
    assert result.exit_code == 0, result.stderr
    assert "added     hello.py" in result.stdout
    big = tmp_path / "big.py"
    big.write_text("#" * ((1 << 20) + 1))
    refused = run_cli("deploy", "push", group.nodes[0].env.root, big)
    assert "max_file_bytes" in refused.error and "big.py" in refused.error
    try:
        group.start()
        assert group.answers() == [{"from": "offline"}] * 2
    finally:
        group.stop()


def test_a_publishing_folder_publishes_each_save_to_every_server(pg_url: str, tmp_path: Path) -> None:
    group = make_cluster(tmp_path, pg_url, size=3, publish=True)
    folder = group.nodes[0].env.pickup_dirs[0]
    (folder / "hello.py").write_text(hello("at-boot"))
    try:
        group.start()
        assert until(lambda: group.answers() == [{"from": "at-boot"}] * 3), group.answers()
        (folder / "hello.py").write_text(hello("saved"))
        assert until(lambda: group.answers() == [{"from": "saved"}] * 3), group.answers()
        (folder / "hello.py").write_text(hello("broken") + "\n  oops\n")
        status = until(lambda: _failed(group), 10)
        assert status and status[0]["path"].endswith("hello.py"), status
        assert group.answers() == [{"from": "saved"}] * 3
        (folder / "hello.py").unlink()
        assert until(lambda: group.answers() == [None] * 3), group.answers()
    finally:
        group.stop()


def _failed(group: Cluster) -> list[dict[str, object]]:
    view = group.nodes[0].handle.request("GET", "/admin/api/cluster")[1]
    return [e for s in view["servers"] for e in s["deploy_errors"]]


def test_publishing_on_sqlite_is_refused_with_what_to_do(tmp_path: Path) -> None:
    env = environment.create(tmp_path / "solo")
    service = tmp_path / "hello.py"
    service.write_text(hello("x"))
    result = run_cli("deploy", "push", env.root, service)
    assert "needs a PostgreSQL store" in result.error, result.stderr
    status = run_cli("cluster", "status", env.root)
    assert "[store] url" in status.error and "PostgreSQL" in status.error
    env.toml_path.write_text(
        env.toml_path.read_text().replace("[hotdeploy]\n", "[hotdeploy]\npublish = true\n")
    )
    start = run_cli("start", env.root)
    assert "[hotdeploy.publish]" in start.error and "PostgreSQL" in start.error, start.stderr


def test_cluster_status_prints_every_server(cluster: Cluster) -> None:
    result = until(
        lambda: (r := run_cli("cluster", "status", cluster.nodes[0].env.root)).exit_code == 0 and r
    )
    assert result, run_cli("cluster", "status", cluster.nodes[0].env.root).stdout
    assert "3 server(s)" in result.stdout
    for node in cluster.nodes:
        assert node.env.base_url in result.stdout


def test_a_killed_server_is_flagged_silent_and_status_exits_1(cluster: Cluster) -> None:
    victim = cluster.nodes[2]
    victim.kill()  # SIGKILL: its row stays, its heartbeat stops
    root = cluster.nodes[0].env.root

    def flagged() -> object:
        view = cluster.nodes[0].handle.request("GET", "/admin/api/cluster")[1]
        rows = [s for s in view["servers"] if s["http"] == victim.env.base_url]  # type: ignore[index]
        return rows and "silent" in rows[0]["flags"]

    assert until(flagged, 20)
    result = run_cli("cluster", "status", root)
    assert result.exit_code == 1 and "silent" in result.stdout
    assert all(n.handle.request("GET", "/admin/api/health")[0] == 200 for n in cluster.nodes[:2])
