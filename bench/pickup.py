"""File pickup: a local ``file`` channel against a bare loop over the same files, and its latency.

    .venv/bin/python bench/pickup.py [--files 1000] [--size 4096] [--samples 50]

(a) ``--files`` files of ``--size`` bytes through a ``file`` channel (read lock ``none``,
    idempotent repository on, SQLite store) to a trivial service, moved to ``.done/``:
    files/s, against a bare Python loop that lists, reads and renames the same files
    (goal >= 0.5x), and against that loop also invoking the service (what a hand-written
    polling service does);
(b) latency from a file's close to its service starting, inotify on, poll interval 5 s:
    p50 and p90 with read lock ``none`` and ``done_file`` (goal p50 < 50 ms).

In-process runtime; each figure is the median of three runs, ours and the peer's
interleaved. Compare ratios, not seconds: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SINK = """
import time
from portway import Service

STARTS = {starts!r}

class Sink(Service):
    name = "bench.sink"

    def handle(self):
        started = time.monotonic()
        if STARTS:
            with open(STARTS, "a") as f:
                f.write(f"{{started}}\\n")
        self.response.payload = len(self.request.payload)
"""


def make_files(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = os.urandom(size)
    for index in range(count):
        (folder / f"f{index:05d}.dat").write_bytes(body)


def runtime_with_sink(root: Path, starts: str = "") -> Any:
    from portway import environment
    from portway.runtime import Runtime
    from portway.testing import free_port

    env = environment.create(root / "env", port=free_port())
    (env.pickup_dirs[0] / "sink.py").write_text(SINK.format(starts=starts))
    runtime = Runtime(env)
    runtime.boot(watch=False)
    return runtime


def ours(root: Path, count: int, size: int, concurrent: int, inotify: bool = True) -> float:
    folder = root / "in"
    make_files(folder, count, size)
    runtime = runtime_with_sink(root)
    try:
        started = time.perf_counter()
        runtime.catalog.create(
            "channel",
            "file",
            "in",
            {
                "service": "bench.sink",
                "folder": str(folder),
                "read_lock": "none",
                "max_files_per_poll": count,
                "max_concurrent": concurrent,
                "poll_interval_s": 0.05,
                "inotify": inotify,
            },
        )
        runtime.refresh()
        runner = runtime.channels.running[("file", "in")][1]
        while runner.channel.report.counts["done"] < count:  # status() also counts rows in the store
            time.sleep(0.002)
        elapsed = time.perf_counter() - started
    finally:
        runtime.close()
    assert len(os.listdir(folder / ".done")) == count
    return count / elapsed


def bare_loop(root: Path, count: int, size: int, invoke: bool) -> float:
    folder = root / "in"
    make_files(folder, count, size)
    runtime = runtime_with_sink(root) if invoke else None
    try:
        started = time.perf_counter()
        done = folder / ".done"
        done.mkdir()
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if not entry.is_file():
                continue
            with open(entry.path, "rb") as file:
                content = file.read()
            if runtime is not None:
                runtime.invoke("bench.sink", content)
            os.rename(entry.path, done / entry.name)
        elapsed = time.perf_counter() - started
    finally:
        if runtime is not None:
            runtime.close()
    return count / elapsed


def latency(root: Path, samples: int, lock: str) -> list[float]:
    starts = root / "starts.txt"
    folder = root / "in"
    folder.mkdir()
    runtime = runtime_with_sink(root, str(starts))
    settings = {"service": "bench.sink", "folder": str(folder), "read_lock": lock, "poll_interval_s": 5.0}
    runtime.catalog.create("channel", "file", "in", settings)
    runtime.refresh()
    time.sleep(0.5)  # the first poll and the inotify watch
    waits = []
    try:
        for index in range(samples):
            path = folder / f"s{index:03d}.dat"
            with open(path, "wb") as file:
                file.write(b"x" * 4096)
            if lock == "done_file":
                (folder / f"s{index:03d}.dat.done").write_bytes(b"")
            closed = time.monotonic()
            deadline = closed + 10
            while time.monotonic() < deadline:
                lines = starts.read_text().splitlines() if starts.exists() else []
                if len(lines) > index:
                    waits.append((float(lines[index]) - closed) * 1000)
                    break
                time.sleep(0.001)
            time.sleep(0.02)
    finally:
        runtime.close()
    return waits


def median_of(runs: int, fn: Any, *args: Any) -> float:
    figures = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            figures.append(fn(Path(folder), *args))
    return statistics.median(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"load average {os.getloadavg()[0]:.2f}; {args.files} files of {args.size} bytes")
    loop = median_of(args.runs, bare_loop, args.files, args.size, False)
    loop_invoke = median_of(args.runs, bare_loop, args.files, args.size, True)
    for concurrent in (1, 4):
        channel = median_of(args.runs, ours, args.files, args.size, concurrent)
        print(
            f"(a) file channel, max_concurrent={concurrent}: {channel:8.0f} files/s | bare loop {loop:8.0f} "
            f"files/s -> {channel / loop:.2f}x (goal >= 0.5x) | loop + invoke {loop_invoke:8.0f} files/s "
            f"-> {channel / loop_invoke:.2f}x"
        )
    for lock in ("none", "done_file"):
        with tempfile.TemporaryDirectory() as folder:
            waits = sorted(latency(Path(folder), args.samples, lock))
        p50 = statistics.median(waits)
        p90 = waits[int(len(waits) * 0.9) - 1]
        print(
            f"(b) close -> service start, read_lock={lock}: p50 {p50:.1f} ms, p90 {p90:.1f} ms "
            "(goal p50 < 50 ms)"
        )


if __name__ == "__main__":
    main()
