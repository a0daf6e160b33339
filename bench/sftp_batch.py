"""portway-sftp's batched pickup calls against the same work done one file at a time.

    .venv/bin/python bench/sftp_batch.py [--files 300] [--size 4096] [--batch 32] [--rounds 5]

Starts a private OpenSSH sshd on 127.0.0.1 (needs root and openssh-server,
as bench/sftp.py), puts N files of 4 KiB in a folder, and on one connection
reads each and moves it aside, as the file pickup does:

- per file (the peer): ``read(path)`` then ``rename_new(path, target)`` for each file
  (three round trips per file);
- batched (ours): ``read_many`` then ``rename_many`` on blocks of 32 files
  (three round trips per block).

The files are moved back between rounds (untimed); the two ways alternate
and the medians of the rounds are printed, in files/s, with the ratio
batched / per file (above 1.0: batching is faster) and the client CPU seconds.
Files live in /dev/shm when it exists, so the disk does not set the pace.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sftp import can_run_sshd, client_settings, start_sshd  # the same private sshd as bench/sftp.py


def _per_file(client: Any, paths: list[str], done: str, _batch: int) -> None:
    for path in paths:
        client.read(path)
        client.rename_new(path, f"{done}/{os.path.basename(path)}")


def _batched(client: Any, paths: list[str], done: str, batch: int) -> None:
    for start in range(0, len(paths), batch):
        block = paths[start : start + batch]
        contents = client.read_many(block)
        assert not any(isinstance(item, Exception) for item in contents), contents
        errors = client.rename_many([(path, f"{done}/{os.path.basename(path)}") for path in block])
        assert errors == [None] * len(block), errors


def _put_back(inbox: Path, done: Path, count: int) -> None:
    moved = sorted(done.iterdir())
    assert len(moved) == count, f"{len(moved)} files moved, {count} expected"
    for path in moved:
        path.rename(inbox / path.name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=300, help="number of files (default 300)")
    parser.add_argument("--size", type=int, default=4096, help="bytes per file (default 4096)")
    parser.add_argument("--batch", type=int, default=32, help="files per read_many/rename_many (default 32)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each way for the median (default 5)")
    args = parser.parse_args()
    if not can_run_sshd():
        raise SystemExit("bench/sftp_batch.py needs root and openssh-server (/usr/sbin/sshd)")

    from portway_sftp.client import SftpClient
    from portway_sftp.settings import SftpSettings

    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        folder = Path(tmp)
        process, port = start_sshd(folder)
        try:
            settings = SftpSettings(**client_settings(folder, port))
            inbox, done = folder / "inbox", folder / "done"
            inbox.mkdir()
            done.mkdir()
            for number in range(args.files):
                (inbox / f"f{number:05d}.dat").write_bytes(os.urandom(args.size))
            paths = [str(inbox / f"f{number:05d}.dat") for number in range(args.files)]
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"sftp pickup calls, {args.files} x {args.size} B files, batches of {args.batch}")
            print(f"{os.cpu_count()} CPUs, load average {load}; python {sys.version.split()[0]}")

            ways: dict[str, Callable[[Any, list[str], str, int], None]] = {
                "per file": _per_file,
                "batched": _batched,
            }
            walls: dict[str, list[float]] = {name: [] for name in ways}
            cpus: dict[str, list[float]] = {name: [] for name in ways}
            with SftpClient.open(settings) as client:
                _batched(client, paths, str(done), args.batch)  # warm up both code paths
                _put_back(inbox, done, args.files)
                for round_number in range(args.rounds):
                    order = list(ways) if round_number % 2 == 0 else list(reversed(ways))
                    for name in order:
                        cpu = time.process_time()
                        started = time.perf_counter()
                        ways[name](client, paths, str(done), args.batch)
                        walls[name].append(time.perf_counter() - started)
                        cpus[name].append(time.process_time() - cpu)
                        _put_back(inbox, done, args.files)
            rates = {name: args.files / statistics.median(walls[name]) for name in ways}
            for name in ways:
                cpu_ms = statistics.median(cpus[name]) * 1000
                print(f"{name:<10} {rates[name]:>9.0f} files/s   client cpu {cpu_ms:7.1f} ms per round")
            print(f"ratio batched / per file: {rates['batched'] / rates['per file']:.2f}")
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
