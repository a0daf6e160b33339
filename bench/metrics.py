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
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from invoke import CASES, PORTWAY, Run, Target, check, free_port, load, report, start_portway

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
    report(results, ours="on", peer="off", pair="metrics on/off", goal=GOAL)
    print(f"the 'on' server counted {counted:.0f} service calls (warm-up and checks included)")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
