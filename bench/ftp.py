"""FTP/FTPS throughput of portway-ftp against curl, same run, same server.

Starts the pyftpdlib demo server in a subprocess on 127.0.0.1 (plain FTP and
explicit FTPS with a generated CA), then times, for portway's client and for
curl against that same server:

* one big file up and down, plain and FTPS (``--size``, default 1 GiB);
* many small files up and down over FTPS (``--files`` x ``--file-size``,
  default 1,000 x 4 KiB), one connection each side.

Prints MB/s (or files/s) and the ratio ours/curl: above 1.0 means we are faster.

curl 7.88 sometimes waits about a second on each FTPS data connection to
pyftpdlib (a known stall on that pairing): over 1,000 small files that is
minutes per run. Each small-file curl run therefore gets ``--curl-budget``
seconds (default 120); a run that overruns is stopped and reported as a
bound ("< N files/s" for curl, "> R x" for the ratio), and the files curl
would have uploaded are copied into place so its download can still run.

    .venv/bin/python bench/ftp.py                 # the full run
    .venv/bin/python bench/ftp.py --size 64M --files 200
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from portway_ftp.client import FtpClient
from portway_ftp.settings import FtpSettings, TlsMode

USER, PASSWORD = "bench", "bench-pw"
UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    if text and text[-1] in UNITS:
        return int(float(text[:-1]) * UNITS[text[-1]])
    return int(text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, certs: Path) -> tuple[subprocess.Popen[str], int, int]:
    plain, tls = free_port(), free_port()
    command = [
        sys.executable, "-m", "portway_ftp.demo_server", "--root", str(root), "--port", str(plain),
        "--tls-port", str(tls), "--user", USER, "--password", PASSWORD, "--cert-dir", str(certs),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if "--tls explicit" in line:
            return process, plain, tls
        if process.poll() is not None:
            break
    process.kill()
    raise SystemExit("the demo server did not start")


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


Row = tuple[str, str, float, float, bool]  # name, unit, ours, curl, curl ran out of its budget


def curl(*args: str, budget_s: float | None = None) -> None:
    """One curl run; ``subprocess.TimeoutExpired`` (curl killed) when it overruns ``budget_s``."""
    subprocess.run(
        ["curl", "-sS", "--fail", "--user", f"{USER}:{PASSWORD}", *args], check=True, timeout=budget_s
    )


def session(settings: FtpSettings, call: str, *args: object) -> None:
    """Connect, log in, do one call, log out: what one curl invocation does."""
    with FtpClient.open(settings) as client:
        getattr(client, call)(*args)


def race(
    runs: int, ours: Callable[[], object], theirs: Callable[[], object], budget_s: float = 0.0
) -> tuple[float, float, bool]:
    """Best time of each over ``runs`` rounds, alternating so both see the same machine load.

    With ``budget_s``, a peer run that overruns counts as ``budget_s`` and ends the peer's runs:
    the third value then says its time is only a lower bound.
    """
    mine, peer, stalled = [], [], False
    for _ in range(runs):
        mine.append(timed(ours))
        if stalled:
            continue
        try:
            peer.append(timed(theirs))
        except subprocess.TimeoutExpired:
            print(f"curl overran its {budget_s:g} s budget and was stopped", file=sys.stderr)
            peer.append(budget_s)
            stalled = True
    return min(mine), min(peer), stalled


def big_files(
    options: argparse.Namespace, size: int, local: Path, root: Path, plain_port: int, tls_port: int, ca: str
) -> list[Row]:
    """One big file up and down, plain and FTPS; each run logs in, as each curl run does."""
    rows = []
    big = local / "big.bin"
    with open(big, "wb") as out:
        left = size
        while left:
            chunk = min(left, 16 * 1024 * 1024)
            out.write(os.urandom(chunk))
            left -= chunk
    mib = size / 1024 / 1024
    for label, port, tls in (("plain", plain_port, TlsMode.NONE), ("FTPS", tls_port, TlsMode.EXPLICIT)):
        settings = FtpSettings(
            host="127.0.0.1",
            port=port,
            username=USER,
            password=PASSWORD,
            tls=tls,
            ca_file=ca if tls is not TlsMode.NONE else "",
        )
        url = f"ftp://127.0.0.1:{port}"
        tls_args = ["--ssl-reqd", "--cacert", ca] if tls is not TlsMode.NONE else []
        ours_up, curl_up, _ = race(
            options.runs,
            partial(session, settings, "upload_file", big, "/ours.bin"),
            partial(curl, *tls_args, "-T", str(big), f"{url}/curl.bin"),
        )
        ours_down, curl_down, _ = race(
            options.runs,
            partial(session, settings, "download_file", "/ours.bin", local / "o.bin"),
            partial(curl, *tls_args, "-o", str(local / "c.bin"), f"{url}/curl.bin"),
        )
        assert (local / "o.bin").stat().st_size == size == (local / "c.bin").stat().st_size
        rows.append((f"{options.size} upload, {label}", "MB/s", mib / ours_up, mib / curl_up, False))
        rows.append((f"{options.size} download, {label}", "MB/s", mib / ours_down, mib / curl_down, False))
        for leftover in (root / "ours.bin", root / "curl.bin", local / "o.bin", local / "c.bin"):
            leftover.unlink()
    big.unlink()
    return rows


def small_files(
    options: argparse.Namespace, count: int, small: int, local: Path, root: Path, tls_port: int, ca: str
) -> list[Row]:
    """Many small files up and down over FTPS, one login per run on each side."""
    many = local / "many"
    many.mkdir()
    for index in range(1, count + 1):
        (many / f"f{index:05d}.dat").write_bytes(os.urandom(small))
    settings = FtpSettings(
        host="127.0.0.1", port=tls_port, username=USER, password=PASSWORD, tls=TlsMode.EXPLICIT, ca_file=ca
    )
    tls_args = ["--ssl-reqd", "--cacert", ca]
    url = f"ftp://127.0.0.1:{tls_port}"
    (root / "curl").mkdir()
    ours_back, curl_back = local / "ours-back", local / "curl-back"
    curl_back.mkdir()
    glob = f"[00001-{count:05d}]"
    budget = options.curl_budget
    ours_up, curl_up, up_stalled = race(
        options.runs,
        partial(session, settings, "upload", many, "/ours"),
        partial(curl, *tls_args, "-T", str(many / f"f{glob}.dat"), f"{url}/curl/", budget_s=budget),
        budget,
    )
    if up_stalled:  # put in place what curl did not upload, so its download has all the files
        shutil.copytree(many, root / "curl", dirs_exist_ok=True)
    ours_down, curl_down, down_stalled = race(
        options.runs,
        partial(session, settings, "download", "/ours", ours_back),
        partial(
            curl, *tls_args, "-o", str(curl_back / "f#1.dat"), f"{url}/curl/f{glob}.dat", budget_s=budget
        ),
        budget,
    )
    assert len(list(ours_back.iterdir())) == count
    assert down_stalled or len(list(curl_back.iterdir())) == count
    label = f"{count} x {options.file_size}"
    return [
        (f"{label} upload, FTPS", "files/s", count / ours_up, count / curl_up, up_stalled),
        (f"{label} download, FTPS", "files/s", count / ours_down, count / curl_down, down_stalled),
    ]


def work_dir(asked: str | None, size: int) -> str | None:
    """Where the files go: memory (/dev/shm) when it has room, so the disk does not set the pace."""
    if asked:
        return asked
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 6 * size + 512 * 1024 * 1024:
        return str(shm)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="1G", help="big file size, e.g. 1G, 256M; 0 skips (default 1G)")
    parser.add_argument(
        "--files", type=int, default=1000, help="number of small files; 0 skips (default 1000)"
    )
    parser.add_argument("--file-size", default="4K", help="size of each small file (default 4K)")
    parser.add_argument("--work-dir", default=None, help="folder for the files (default: /dev/shm if room)")
    parser.add_argument("--runs", type=int, default=1, help="repeat each timing, keep the best (default 1)")
    parser.add_argument(
        "--curl-budget",
        type=float,
        default=120.0,
        help="seconds each small-file curl run may take before it is stopped and reported as a bound "
        "(default 120)",
    )
    options = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is not installed; the benchmark compares against it")
    size, small, count = parse_size(options.size), parse_size(options.file_size), options.files

    work = Path(tempfile.mkdtemp(prefix="portway-ftp-bench-", dir=work_dir(options.work_dir, size)))
    print(f"files in {work} (server root and local copies)", file=sys.stderr)
    root, local = work / "root", work / "local"
    root.mkdir()
    local.mkdir()
    server, plain_port, tls_port = start_server(root, work / "certs")
    ca = str(work / "certs" / "ca.pem")
    rows: list[Row] = []
    try:
        if size:
            rows += big_files(options, size, local, root, plain_port, tls_port, ca)
        if count:
            rows += small_files(options, count, small, local, root, tls_port, ca)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    print(f"{'benchmark':<32} {'unit':>8} {'portway':>10} {'curl':>10} {'ours/curl':>10}")
    for name, unit, ours, theirs, stalled in rows:
        peer = f"<{theirs:.1f}" if stalled else f"{theirs:.1f}"
        ratio = f"{'>' if stalled else ''}{ours / theirs:.2f}x"
        print(f"{name:<32} {unit:>8} {ours:>10.1f} {peer:>10} {ratio:>10}")


if __name__ == "__main__":
    main()
