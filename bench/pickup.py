"""File pickup: a local ``file`` channel against a bare loop over the same files, and its latency.

    .venv/bin/python bench/pickup.py [--files 1000] [--size 4096] [--samples 50]

(a) ``--files`` files of ``--size`` bytes through a ``file`` channel (read lock ``none``,
    idempotent repository on, SQLite store) to a trivial service, moved to ``.done/``:
    files/s, against a bare Python loop that lists, reads and renames the same files
    (goal >= 0.5x), and against that loop also invoking the service (what a hand-written
    polling service does). The channel's clock starts once it is started (a channel
    starts once, not per file), with watchdog imported as hot-deploy has it in a server;
(b) latency from a file's close to its service starting, inotify on, poll interval 5 s:
    p50 and p90 with read lock ``none`` and ``done_file`` (goal p50 < 50 ms);
(c) ``--sftp-files`` files of 4 KiB through an ``sftp`` channel on a private OpenSSH sshd
    (root and openssh-server; skipped otherwise) against a service that lists, reads and
    moves the same files by hand with its pooled ``conn`` (goal >= 1.0x).

In-process runtime. Each round runs the peer and ours back to back; each figure and
each ratio is the median over ``--runs`` rounds. Compare ratios, not seconds: the
machine is shared.
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


HAND_LOOP = """
import posixpath
from portway import Service

class HandLoop(Service):
    name = "bench.hand-loop"

    def handle(self):
        folder = self.request.payload["folder"]
        conn = self.out.sftp["bench"].conn
        conn.create_directory(posixpath.join(folder, ".done"))
        moved = 0
        for info in sorted(conn.list(folder), key=lambda i: i.name):
            if not info.is_file:
                continue
            data = conn.read(info.path)
            assert len(data) == info.size
            conn.move(info.path, posixpath.join(folder, ".done", info.name))
            moved += 1
        self.response.payload = moved
"""


def make_files(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = os.urandom(size)
    for index in range(count):
        (folder / f"f{index:05d}.dat").write_bytes(body)


def runtime_with_sink(root: Path, starts: str = "") -> Any:
    from portway import environment
    from portway.runtime import Runtime
    from portway.testing import allow_files, free_port

    env = allow_files(environment.create(root / "env", port=free_port()), root)
    (env.pickup_dirs[0] / "sink.py").write_text(SINK.format(starts=starts))
    runtime = Runtime(env)
    runtime.boot(watch=False)
    import watchdog.observers  # noqa: F401  (a server's hot-deploy has it loaded; the channel's watch uses it)

    return runtime


def ours(root: Path, count: int, size: int, concurrent: int, inotify: bool = True) -> float:
    folder = root / "in"
    make_files(folder, count, size)
    runtime = runtime_with_sink(root)
    try:
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
        started = time.perf_counter()
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


def sftp_runtime(root: Path, folder: Path, port: int) -> Any:
    from portway.testing import allow_files, create_connection

    runtime = runtime_with_sink(root)
    allowed = allow_files(runtime.env, folder)
    runtime.close()
    from portway.runtime import Runtime

    runtime = Runtime(allowed)
    runtime.boot(watch=False)
    (allowed.pickup_dirs[0] / "hand_loop.py").write_text(HAND_LOOP)
    runtime.deployer.deploy(allowed.pickup_dirs[0] / "hand_loop.py")
    from sftp import client_settings

    create_connection(runtime, "sftp", "bench", client_settings(folder, port))
    return runtime


def sftp_ours(root: Path, keys: Path, port: int, count: int, concurrent: int) -> float:
    inbox = root / "in"
    make_files(inbox, count, 4096)
    runtime = sftp_runtime(root, keys, port)
    try:
        settings = {
            "service": "bench.sink",
            "connection": "bench",
            "folder": str(inbox),
            "read_lock": "none",
            "max_files_per_poll": count,
            "max_concurrent": concurrent,
            "poll_interval_s": 0.05,
        }
        runtime.catalog.create("channel", "sftp", "in", settings)
        runtime.refresh()
        started = time.perf_counter()
        runner = runtime.channels.running[("sftp", "in")][1]
        while runner.report.counts["done"] < count:
            time.sleep(0.002)
        elapsed = time.perf_counter() - started
    finally:
        runtime.close()
    assert len(os.listdir(inbox / ".done")) == count
    return count / elapsed


def sftp_hand(root: Path, keys: Path, port: int, count: int) -> float:
    inbox = root / "in"
    make_files(inbox, count, 4096)
    runtime = sftp_runtime(root, keys, port)
    try:
        started = time.perf_counter()
        moved = runtime.invoke("bench.hand-loop", {"folder": str(inbox)}).payload
        elapsed = time.perf_counter() - started
    finally:
        runtime.close()
    assert moved == count
    return count / elapsed


def sftp_figures(args: argparse.Namespace) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from sftp import can_run_sshd, start_sshd

    if not can_run_sshd():
        print("(c) skipped: needs root and openssh-server (/usr/sbin/sshd)")
        return

    with tempfile.TemporaryDirectory() as keys_folder:
        keys = Path(keys_folder)
        process, port = start_sshd(keys)
        try:
            rounds = [
                {
                    "hand": in_folder(sftp_hand, keys, port, args.sftp_files),
                    1: in_folder(sftp_ours, keys, port, args.sftp_files, 1),
                    4: in_folder(sftp_ours, keys, port, args.sftp_files, 4),
                }
                for _ in range(args.runs)
            ]
            hand = statistics.median(r["hand"] for r in rounds)
            for concurrent in (1, 4):
                channel = statistics.median(r[concurrent] for r in rounds)
                ratio = statistics.median(r[concurrent] / r["hand"] for r in rounds)
                print(
                    f"(c) sftp channel, max_concurrent={concurrent}: {channel:6.0f} files/s | hand-written "
                    f"list/read/move service {hand:6.0f} files/s -> {ratio:.2f}x (goal >= 1.0x)"
                )
        finally:
            process.terminate()
            process.wait(10)


def in_folder(fn: Any, *args: Any) -> float:
    """``fn(folder, *args)`` in a new temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        figure: float = fn(Path(folder), *args)
        return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sftp-files", type=int, default=300)
    args = parser.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"load average {os.getloadavg()[0]:.2f}; {args.files} files of {args.size} bytes")
    # One round: the loop, the loop + invoke and both channels back to back, so a slow moment of
    # the shared machine hits them alike; each figure and ratio is the median over the rounds.
    rounds = [
        {
            "loop": in_folder(bare_loop, args.files, args.size, False),
            "loop_invoke": in_folder(bare_loop, args.files, args.size, True),
            1: in_folder(ours, args.files, args.size, 1),
            4: in_folder(ours, args.files, args.size, 4),
        }
        for _ in range(args.runs)
    ]
    loop = statistics.median(r["loop"] for r in rounds)
    loop_invoke = statistics.median(r["loop_invoke"] for r in rounds)
    for concurrent in (1, 4):
        channel = statistics.median(r[concurrent] for r in rounds)
        ratio = statistics.median(r[concurrent] / r["loop"] for r in rounds)
        ratio_invoke = statistics.median(r[concurrent] / r["loop_invoke"] for r in rounds)
        # Noise only ever slows a run down: the best of each is the other honest reading.
        best = max(r[concurrent] for r in rounds) / max(r["loop"] for r in rounds)
        print(
            f"(a) file channel, max_concurrent={concurrent}: {channel:8.0f} files/s | bare loop {loop:8.0f} "
            f"files/s -> {ratio:.2f}x (goal >= 0.5x; best vs best {best:.2f}x) | loop + invoke "
            f"{loop_invoke:8.0f} files/s -> {ratio_invoke:.2f}x"
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

    sftp_figures(args)


if __name__ == "__main__":
    main()
