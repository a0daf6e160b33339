"""portway-sftp against OpenSSH's ``sftp`` on the same sshd, in the same run.

    .venv/bin/python bench/sftp.py [--size MIB] [--files N] [--rounds N]

Starts a private OpenSSH sshd on 127.0.0.1 (needs root and openssh-server),
then measures, for portway-sftp and for ``sftp -c aes128-gcm@openssh.com -b``:

- one big file (default 1 GiB) up and down, in MB/s;
- N files of 4 KiB (default 1,000) up and down as a directory tree;
- connect + authenticate + first command (``ls .``), median of rounds.

Every ratio printed is our speed divided by OpenSSH's: above 1.0 we are faster. Client CPU
seconds are printed too (ours: this process, all threads; OpenSSH: sftp and its ssh
child), since on a shared machine wall time is stretched by other jobs.
Files live in /dev/shm when it has room, so the disk does not set the pace.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CIPHER = "aes128-gcm@openssh.com"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def can_run_sshd() -> bool:
    """Whether this machine can start the private sshd: root, openssh-server and ssh-keygen."""
    return os.geteuid() == 0 and os.path.exists("/usr/sbin/sshd") and shutil.which("ssh-keygen") is not None


def client_settings(folder: Path, port: int) -> dict[str, Any]:
    """The sftp connection settings that log in to the sshd ``start_sshd(folder)`` started."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "username": "root",
        "private_key_file": str(folder / "user_key"),
        "known_hosts_file": str(folder / "known_hosts"),
    }


def start_sshd(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    shutil.copy(folder / "user_key.pub", folder / "authorized_keys")
    port = _port()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder}/host_key\nPidFile {folder}/sshd.pid\n"
        f"UsePAM no\nAuthorizedKeysFile {folder}/authorized_keys\nStrictModes no\nPermitRootLogin yes\n"
        "Subsystem sftp internal-sftp\nMaxStartups 100\nLogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    with (folder / "sshd.log").open("wb") as log:  # sshd reports our readiness probe; keep it off the table
        process = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(folder / "sshd_config")], stderr=log
        )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("sshd did not start") from None
            time.sleep(0.05)
    kind, key = (folder / "host_key.pub").read_text().split()[:2]
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {kind} {key}\n")
    return process, port


class Peer:
    """OpenSSH's sftp in batch mode, as a user would run it."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port

    def run(self, script: str) -> float:
        """Run a batch script; return wall seconds (client CPU seconds go to ``CPU``)."""
        batch = self.folder / "batch.txt"
        batch.write_text(script)
        command = [
            "sftp", "-q", "-c", CIPHER, "-b", str(batch), "-i", str(self.folder / "user_key"),
            "-o", f"UserKnownHostsFile={self.folder / 'known_hosts'}", "-P", str(self.port), "root@127.0.0.1",
        ]  # fmt: skip
        before = _children_cpu()
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        CPU["peer"] += _children_cpu() - before  # sftp and its ssh child
        return wall


# Client-side CPU seconds per measurement. On a shared machine wall time is
# stretched by other jobs; CPU spent per byte is not, so both are printed.
CPU = {"ours": 0.0, "peer": 0.0}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(action: Callable[[], object]) -> float:
    cpu = time.process_time()  # all threads of this process, the sshd excluded
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    CPU["ours"] += time.process_time() - cpu
    return wall


def _row(label: str, ours: float, peer: float, unit: str, higher_is_better: bool) -> None:
    """One line: wall figures and their ratio, then the client CPU both used for it."""
    ratio = ours / peer if higher_is_better else peer / ours
    cpu_ours, cpu_peer = CPU["ours"], CPU["peer"]
    CPU["ours"] = CPU["peer"] = 0.0
    cpu_ratio = cpu_peer / cpu_ours if cpu_ours else float("nan")
    print(
        f"{label:<32} ours {ours:>8.2f} {unit:<5} openssh {peer:>8.2f} {unit:<5} ratio {ratio:5.2f}"
        f"   client cpu ours {cpu_ours:6.2f} s openssh {cpu_peer:6.2f} s ratio {cpu_ratio:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1024, help="big file size in MiB (default 1024)")
    parser.add_argument("--files", type=int, default=1000, help="number of 4 KiB files (default 1000)")
    parser.add_argument("--rounds", type=int, default=10, help="connect rounds for the median (default 10)")
    args = parser.parse_args()
    if not can_run_sshd():
        raise SystemExit("bench/sftp.py needs root and openssh-server (/usr/sbin/sshd)")

    from portway_sftp.client import SftpClient
    from portway_sftp.settings import SftpSettings

    room = shutil.disk_usage("/dev/shm").free if os.path.isdir("/dev/shm") else 0
    base = "/dev/shm" if room > 3 * args.size * 1024 * 1024 + 256 * 1024 * 1024 else None
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        folder = Path(tmp)
        process, port = start_sshd(folder)
        try:
            peer = Peer(folder, port)
            settings = SftpSettings(**client_settings(folder, port))
            python = sys.version.split()[0]
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"portway-sftp vs OpenSSH sftp -c {CIPHER}; files in {folder}; python {python}")
            print(f"{os.cpu_count()} CPUs, load average {load}; ratios above 1.0: portway-sftp is better")

            big = folder / "big.bin"
            with big.open("wb") as out:
                for _ in range(args.size):
                    out.write(os.urandom(1024 * 1024))
            megabytes = args.size * 1024 * 1024 / 1e6
            with SftpClient.open(settings) as client:
                ours_up = _timed(lambda: client.upload(big, str(folder / "ours_up.bin")))
                peer_up = peer.run(f"put {big} {folder / 'peer_up.bin'}\n")
                _row(f"{args.size} MiB upload", megabytes / ours_up, megabytes / peer_up, "MB/s", True)
                ours_down = _timed(
                    lambda: client.download(str(folder / "ours_up.bin"), folder / "ours_down.bin")
                )
            peer_down = peer.run(f"get {folder / 'peer_up.bin'} {folder / 'peer_down.bin'}\n")
            _row(f"{args.size} MiB download", megabytes / ours_down, megabytes / peer_down, "MB/s", True)
            for name in ("ours_up.bin", "ours_down.bin", "peer_up.bin", "peer_down.bin"):
                (folder / name).unlink()
            big.unlink()

            small = folder / "small"
            small.mkdir()
            for number in range(args.files):
                (small / f"f{number:05d}.dat").write_bytes(os.urandom(4096))
            with SftpClient.open(settings) as client:
                ours_up = _timed(lambda: client.upload(small, str(folder / "ours_small")))
                peer_up = peer.run(f"put -r {small} {folder / 'peer_small'}\n")
                _row(f"{args.files} x 4 KiB upload", ours_up, peer_up, "s", False)
                ours_down = _timed(lambda: client.download(str(folder / "ours_small"), folder / "ours_back"))
            peer_down = peer.run(f"get -r {folder / 'peer_small'} {folder / 'peer_back'}\n")
            _row(f"{args.files} x 4 KiB download", ours_down, peer_down, "s", False)
            assert len(list((folder / "ours_back").iterdir())) == args.files

            def connect_once() -> None:
                with SftpClient.open(settings) as client:
                    client.list(".")

            ours = statistics.median(_timed(connect_once) for _ in range(args.rounds)) * 1000
            theirs = statistics.median(peer.run("ls .\n") for _ in range(args.rounds)) * 1000
            CPU["ours"] /= args.rounds
            CPU["peer"] /= args.rounds
            _row("connect + auth + first command", ours, theirs, "ms", False)
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
