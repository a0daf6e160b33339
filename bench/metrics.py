"""What counting costs: HTTP invoke throughput with ``[metrics] enabled`` true and false, same run.

Two portway servers with the same services and channels as bench/invoke.py,
one with metrics on (the default) and one with ``[metrics] enabled = false``
(no counters at all). Rounds alternate on/off so machine noise hits both
alike; the medians of per-round ratios on/off are reported (goal: >= 0.95
req/s), with the servers' CPU time per request, steadier than req/s on a
busy machine. At the end the "on" server is scraped once, to show the
counts add up.

    .venv/bin/python bench/metrics.py [--seconds 5] [--connections 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from invoke import CASES, PORTWAY, Run, Target, check, free_port, load, start_portway

GOAL = 0.95


def start(work: Path, label: str, enabled: bool) -> tuple[Target, Path]:
    folder = work / label
    folder.mkdir()
    port = free_port()
    env = start_portway(folder, port)
    if not enabled:
        subprocess.run([str(PORTWAY), "stop", str(env)], capture_output=True, timeout=60, check=True)
        toml = env / "portway.toml"
        toml.write_text(
            re.sub(r"(?m)^enabled = true(\n# true: /metrics)", r"enabled = false\1", toml.read_text())
        )
        subprocess.run([str(PORTWAY), "start", str(env)], capture_output=True, timeout=60, check=True)
    pid = int((env / "server.lock").read_text().split()[0])
    return Target(label, port, pid), env


def scrape_total(target: Target, env: Path) -> float:
    key = (env / "admin.key").read_text().strip()
    request = urllib.request.Request(
        f"http://127.0.0.1:{target.port}/metrics", headers={"authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read().decode()
    return sum(
        float(m.group(1)) for m in re.finditer(r"^portway_service_invocations_total\{.*\} (\S+)$", text, re.M)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.connections} connections, {args.seconds:g}s x {args.rounds} rounds per case")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    results: dict[tuple[str, str], list[Run]] = {}
    envs: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="portway-bench-metrics-") as tmp:
        work = Path(tmp)
        try:
            on, on_env = start(work, "on", True)
            envs.append(on_env)
            off, off_env = start(work, "off", False)
            envs.append(off_env)
            for path in CASES:
                for target in (on, off):
                    check(target.port, path)
                    load(target, path, args.warmup, args.connections, work)
            for _ in range(args.rounds):
                for path in CASES:
                    for target in (on, off):
                        results.setdefault((target.label, path), []).append(
                            load(target, path, args.seconds, args.connections, work)
                        )
            counted = scrape_total(on, on_env)
        finally:
            for env in envs:
                subprocess.run([str(PORTWAY), "stop", str(env)], capture_output=True, timeout=60)
    print(
        f"{'case':<6} {'on req/s':>9} {'off req/s':>10} {'ratio':>6}"
        f" {'on cpu/req':>11} {'off cpu/req':>12} {'ratio':>6}"
    )
    worst = float("inf")
    for path in CASES:
        mine, peer = results[("on", path)], results[("off", path)]
        ratio = statistics.median(a.rate / b.rate for a, b in zip(mine, peer, strict=True))
        worst = min(worst, ratio)
        cpu_on = statistics.median(r.cpu_us for r in mine)
        cpu_off = statistics.median(r.cpu_us for r in peer)
        cpu_ratio = f"{cpu_off / cpu_on:6.2f}" if cpu_on and cpu_off else "     -"
        print(
            f"{path.strip('/'):<6} {statistics.median(r.rate for r in mine):>9.0f}"
            f" {statistics.median(r.rate for r in peer):>10.0f} {ratio:>6.2f}"
            f" {cpu_on:>9.0f}us {cpu_off:>10.0f}us {cpu_ratio}"
        )
        rounds = ", ".join(f"{a.rate:.0f}/{b.rate:.0f}" for a, b in zip(mine, peer, strict=True))
        print(f"       rounds on/off req/s: {rounds}")
    verdict = "meets" if worst >= GOAL else "is BELOW"
    print(f"worst req/s ratio metrics on/off {worst:.2f} {verdict} the goal of >= {GOAL}")
    print(f"the 'on' server counted {counted:.0f} service calls (warm-up and checks included)")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
