"""The cluster: publish-to-live on 3 servers, cluster boot, and requests/s through HAProxy.

    .venv/bin/python bench/cluster.py [--publishes 30] [--services 1000] [--seconds 5]

Starts a throwaway PostgreSQL (Debian's binaries, as the tests do) and real servers.

(a) one file published through the admin API of one server -> the new version answering on
    all 3 servers: p50 and p99 (goal p99 < 1 s);
(b) cluster boot: ``portway start`` of a server whose 1,000 services are in the store, warm
    bytecode cache, against the same server with the same files in a local folder on SQLite
    (goal <= 1.2x), median of ``--runs``;
(c) requests/s of a trivial service over an HTTP channel through HAProxy with 3 servers,
    against HAProxy with 1 of them (the ratio). On a 2-core machine 3 servers share the
    same 2 cores as the load generator and HAProxy: read the ratio with that in mind.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).parent.parent / "tests"),
    str(Path(__file__).parent.parent / "tests/cluster"),
]

from cluster_kit import Cluster, hello, make_cluster, make_node, until  # noqa: E402
from pgcluster import PgCluster  # noqa: E402

from portway import environment  # noqa: E402
from portway.testing import run_cli  # noqa: E402


def publish_to_live(cluster: Cluster, count: int) -> list[float]:
    laps = []
    for version in range(count):
        body = {"files": [{"path": "hello.py", "content": hello(f"p{version}")}]}
        started = time.perf_counter()
        status, _ = cluster.nodes[version % 3].handle.request("POST", "/admin/api/deploy/files", body)
        assert status == 200
        assert until(lambda v=version: cluster.answers() == [{"from": f"p{v}"}] * 3, 10, every_s=0.002)
        laps.append(time.perf_counter() - started)
    return laps


def service_files(folder: Path, count: int) -> None:
    for index in range(count):
        sub = folder / f"group{index // 100}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"svc{index}.py").write_text(hello(f"s{index}", f"bench.s{index}"))


def timed_start(env: environment.Environment) -> float:
    started = time.perf_counter()
    result = run_cli("start", env.root)
    assert result.exit_code == 0, result.stderr
    elapsed = time.perf_counter() - started
    assert run_cli("stop", env.root).exit_code == 0
    return elapsed


def boot(pg: PgCluster, folder: Path, services: int, runs: int) -> tuple[float, float]:
    src = folder / "src"
    service_files(src, services)
    clustered = make_node(folder, "clustered", pg.new_database(), None)
    assert run_cli("deploy", "push", clustered.env.root, src).exit_code == 0
    local_root = environment.create(folder / "local").root
    os.rename(src, local_root / "services" / "bench")
    local = environment.load(local_root)
    timed_start(clustered.env), timed_start(local)  # warm both bytecode caches
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(timed_start(clustered.env))
        theirs.append(timed_start(local))
    return statistics.median(ours), statistics.median(theirs)


def requests_per_s(port: int, seconds: float, threads: int = 8) -> float:
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def loop(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < stop:
            conn.request("GET", "/hello")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            counts[slot] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publishes", type=int, default=30)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    pg = PgCluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="portway-bench-cluster-") as scratch:
            folder = Path(scratch)
            cluster = make_cluster(folder / "three", pg.new_database())
            cluster.start()
            try:
                laps = sorted(publish_to_live(cluster, args.publishes))
                p50, p99 = statistics.median(laps), laps[min(len(laps) - 1, int(len(laps) * 0.99))]
                print(
                    f"(a) publish -> live on 3 servers: p50 {p50 * 1000:.0f} ms, "
                    f"p99 {p99 * 1000:.0f} ms (goal p99 < 1 s)"
                )
                body = {
                    "type": "http",
                    "name": "hello",
                    "settings": {"path": "/hello", "method": "GET", "service": "demo.hello"},
                }
                cluster.nodes[0].handle.request("POST", "/admin/api/channels", body)
                three = int(cluster.balance().rsplit(":", 1)[1])
                one_cluster = Cluster(cluster.pg_url, cluster.nodes[:1], folder=folder / "one")
                (folder / "one").mkdir()
                one = int(one_cluster.balance().rsplit(":", 1)[1])
                until(lambda: cluster.answers()[0] is not None)
                requests_per_s(three, 1), requests_per_s(one, 1)  # warm
                rps_three, rps_one = requests_per_s(three, args.seconds), requests_per_s(one, args.seconds)
                print(
                    f"(c) HAProxy req/s: 3 servers {rps_three:.0f}, 1 server {rps_one:.0f}: "
                    f"{rps_three / rps_one:.2f}x"
                )
                if one_cluster.haproxy is not None:
                    one_cluster.haproxy.terminate()
            finally:
                cluster.stop()
            ours, theirs = boot(pg, folder, args.services, args.runs)
            print(
                f"(b) start with {args.services} services: from the store {ours * 1000:.0f} ms, "
                f"from a local folder {theirs * 1000:.0f} ms: {ours / theirs:.2f}x (goal <= 1.2x)"
            )
    finally:
        pg.stop()
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
