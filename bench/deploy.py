"""Hot-deploy speed: warm-cache boot, cold compile, server start, save-to-live latency, redeploys under load.

Generated service files (one Service class each, the size of a small real
service) are deployed by portway's Deployer exactly as a server boot does:
scan the pickup folder, read the one packed bytecode cache, run every file
as a fresh module, swap them into the registry. The peer figure is Zato's
published "700 services a second using just one CPU" (zato.io blog,
"server startup time", 2019): Zato's own code is not run here (AGPL), so
its number is the published one and the ratio is ours / 700.

Sections:

1. warm cache, 1,000 and 5,000 files: best and median of ``--rounds``
   boots, services/s beside Zato's 700/s (goal >= 50,000/s), and beside the
   bare-CPython floor for the same files (FLOOR: load one marshal file, stat
   and exec each file, nothing else), the most any deployer could reach here;
2. cold compile of 1,000 files (the pack removed before each boot);
3. ``portway start`` to the first successful request, 1,000 services vs an
   empty pickup folder (the real server in a subprocess, same machine);
4. save of one file -> the new version answering: p50/p99 over ``--saves``
   saves (half in place, half by atomic rename), watchdog inotify + 5 ms
   debounce (goals p50 < 20 ms, p99 < 100 ms);
5. 100 redeploys while a thread calls the service without pause: failed calls
   (goal: zero), in process and over HTTP against the running server.

    .venv/bin/python bench/deploy.py [--rounds 7] [--saves 200] [--skip-server] [--warm-only]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import structlog

ZATO_RATE = 700.0
RATE_GOAL = 50_000.0

SERVICE = '''\
"""Generated service {i}: returns its number."""

from portway import Service


class Service{i:05d}(Service):
    name = "bench.service-{i:05d}"

    def handle(self) -> None:
        payload = self.request.payload or {{}}
        self.response.payload = {{"n": {i}, "echo": payload.get("echo")}}
'''

VERSIONED = """\
from portway import Service


class Target(Service):
    name = "bench.target"

    def handle(self) -> None:
        self.response.payload = {version}
"""


def quiet_logs() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_env(root: Path, files: int, port: int = 0) -> Path:
    from portway import environment

    environment.create(root, port=port or free_port())
    pickup = root / "services"
    for i in range(files):
        (pickup / f"svc_{i:05d}.py").write_text(SERVICE.format(i=i))
    return root


def settle() -> None:
    """Wait out the cache's racy-timestamp window: files changed in the last 2 s are always
    re-read and re-hashed at boot. Real pickup folders hold files older than that."""
    from portway.hotdeploy.cache import RACY_NS

    time.sleep(RACY_NS / 1e9 + 0.1)


BOOT = """
import json, logging, sys, time
import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
from pathlib import Path
from portway.hotdeploy.deployer import Deployer
from portway.registry import Registry
import portway.runtime  # everything a server has imported before it deploys

root = Path(sys.argv[1])
deployer = Deployer(Registry(), [root / "services"], cache_dir=root / "cache")
started, cpu = time.perf_counter(), time.process_time()
services = deployer.deploy_all()
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
deployer.close()
print(json.dumps({"s": elapsed, "cpu": cpu, "services": services, "boot": deployer.last_boot}))
"""


# The least work that puts these files live from cached bytecode, in bare CPython: one marshal
# file of code objects read, each file stat'ed (to know its cached code is current), each
# file's code run as a fresh module. No registry, no time limit, no bookkeeping: no deployer
# in this Python on this machine can beat it, so it is the in-run peer of section 1.
FLOOR = """
import gc, json, marshal, os, sys, time, types
from pathlib import Path
import portway.runtime  # the same imports as BOOT, so both start from the same heap

root = Path(sys.argv[1])
codes = root / "floor.marshal"
if not codes.exists():
    paths = sorted(str(p) for p in (root / "services").glob("*.py"))
    table = {p: compile(Path(p).read_bytes(), p, "exec", dont_inherit=True) for p in paths}
    codes.write_bytes(marshal.dumps(table))
    print(json.dumps({"s": None}))
    raise SystemExit
gc.disable()
started = time.perf_counter()
table = marshal.loads(codes.read_bytes())
for n, (path, code) in enumerate(table.items()):
    os.stat(path)
    name = f"floor_{n}"
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    exec(code, module.__dict__)
print(json.dumps({"s": time.perf_counter() - started}))
"""


def floor_once(root: Path) -> float:
    """Seconds bare CPython takes to load, stat and run the same files (see FLOOR); 0 for the setup run."""
    done = subprocess.run(
        [sys.executable, "-c", FLOOR, str(root)], capture_output=True, text=True, check=True, timeout=300
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["s"] or 0.0)


def boot_once(root: Path) -> tuple[float, float, int, dict[str, object]]:
    """One boot deploy in a fresh process, as a server start does: (wall s, CPU s, services, figures)."""
    done = subprocess.run(
        [sys.executable, "-c", BOOT, str(root)], capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["s"], result["cpu"], result["services"], result["boot"]


def rate_line(label: str, files: int, times: list[float], cpu: list[float]) -> float:
    best, median = min(times), statistics.median(times)
    rate = files / best
    print(
        f"  {label:<20} best {best * 1000:8.2f} ms  median {median * 1000:8.2f} ms"
        f"  -> {rate:9,.0f} services/s (median {files / median:,.0f}/s)"
        f"  | Zato {ZATO_RATE:,.0f}/s  ratio {rate / ZATO_RATE:,.0f}x"
        f"  | CPU time best {min(cpu) * 1000:.2f} ms = {files / min(cpu):,.0f}/s"
    )
    return rate


def warm_and_cold(work: Path, rounds: int, cold: bool = True) -> None:
    print("1. deploy from warm cache, each boot in a fresh process")
    print("   (scan + one pack read + run every file as a fresh module + registry swap)")
    for files in (1000, 5000):
        root = make_env(work / f"warm{files}", files)
        settle()
        boot_once(root)  # fills the pack, with the files' stat signatures
        times, cpu = [], []
        for _ in range(rounds):
            elapsed, used, services, boot = boot_once(root)
            assert services == files and boot["compiled"] == 0, boot
            times.append(elapsed)
            cpu.append(used)
        rate = rate_line(f"{files:,} files", files, times, cpu)
        floor_once(root)  # writes the floor's own marshal file
        floor = min(floor_once(root) for _ in range(rounds))
        print(
            f"  {'bare CPython floor':<20} best {floor * 1000:8.2f} ms"
            f"  -> {files / floor:9,.0f} files/s  | portway reaches {rate * floor / files:.0%} of it"
        )
        print(
            f"  {'':<20} goal >= {RATE_GOAL:,.0f}/s (wall, best): {'met' if rate >= RATE_GOAL else 'NOT met'}"
        )
    if not cold:
        return
    print("2. cold compile (no pack: read, hash, compile, run, write the pack)")
    root = make_env(work / "cold1000", 1000)
    times, cpu = [], []
    for _ in range(max(3, rounds // 2)):
        (root / "cache" / "services.pack").unlink(missing_ok=True)
        elapsed, used, services, boot = boot_once(root)
        assert boot["compiled"] == 1000, boot
        times.append(elapsed)
        cpu.append(used)
    rate_line("1,000 files, cold", 1000, times, cpu)


def wait_http(url: str, body: bytes, key: str, deadline_s: float, proc: subprocess.Popen[bytes]) -> float:
    """Poll until a POST answers 200; return the moment it did."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.002)
    raise RuntimeError(f"no answer from {url} within {deadline_s}s")


def start_to_first_request(root: Path, service: str) -> float:
    from portway import environment

    env = environment.load(root)
    key = env.admin_key()
    url = f"{env.base_url}/admin/api/services/{service}/invoke"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "portway.server", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    try:
        answered = wait_http(url, b"{}", key, 60, proc)
    finally:
        proc.terminate()
        proc.wait(30)
    return answered - started


def server_start(work: Path, rounds: int) -> None:
    print("3. `portway start` (python -m portway.server) to first successful request")
    bare = make_env(work / "start0", 0)
    full = make_env(work / "start1000", 1000)
    settle()
    start_to_first_request(full, "bench.service-00999")  # fills the pack, warms the OS cache
    bare_times, full_times = [], []
    for _ in range(max(3, rounds // 2)):  # alternate so machine noise hits both alike
        bare_times.append(start_to_first_request(bare, "portway.ping"))
        full_times.append(start_to_first_request(full, "bench.service-00999"))
    b, f = statistics.median(bare_times), statistics.median(full_times)
    print(
        f"  bare server (0 services)     median {b * 1000:8.1f} ms  (best {min(bare_times) * 1000:.1f})\n"
        f"  1,000 services               median {f * 1000:8.1f} ms  (best {min(full_times) * 1000:.1f})\n"
        f"  cost of 1,000 services       {(f - b) * 1000:8.1f} ms on top of a bare start (goal < 300 ms)"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def save_latency(work: Path, saves: int) -> None:
    from portway import environment
    from portway.runtime import Runtime

    print(f"4. save of one file -> new version answering ({saves} saves, in process, real inotify)")
    root = make_env(work / "latency", 1000)
    runtime = Runtime(environment.load(root))
    runtime.boot()
    path = root / "services" / "target.py"
    path.write_text(VERSIONED.format(version=0))
    _until(lambda: _answer(runtime) == 0)
    latencies: list[float] = []
    try:
        for version in range(1, saves + 1):
            source = VERSIONED.format(version=version)
            started = time.perf_counter()
            if version % 2:
                path.write_text(source)
            else:
                tmp = path.with_name(".target.py.tmp")
                tmp.write_text(source)
                os.replace(tmp, path)
            while _answer(runtime) != version:
                time.sleep(0.0002)
                if time.perf_counter() - started > 10:
                    raise RuntimeError(f"version {version} not live after 10 s")
            latencies.append(time.perf_counter() - started)
    finally:
        runtime.close()
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(
        f"  p50 {p50 * 1000:6.2f} ms (goal < 20)   p99 {p99 * 1000:6.2f} ms (goal < 100)   "
        f"max {max(latencies) * 1000:.2f} ms   (pickup folder holds 1,000 other services)"
    )


def _answer(runtime: object) -> object:
    try:
        return runtime.invoke("bench.target").payload  # type: ignore[attr-defined]
    except Exception:
        return None


def _until(check: Callable[[], bool], timeout_s: float = 10) -> None:
    end = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > end:
            raise RuntimeError("condition not reached")
        time.sleep(0.001)


def redeploys_under_load(work: Path, with_server: bool) -> None:
    from portway import environment
    from portway.runtime import Runtime

    print("5. 100 redeploys while a thread calls the service without pause")
    root = make_env(work / "load", 0)
    runtime = Runtime(environment.load(root))
    runtime.boot()
    path = root / "services" / "target.py"
    path.write_text(VERSIONED.format(version=0))
    _until(lambda: _answer(runtime) == 0)
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0}

    def load() -> None:
        while not stop.is_set():
            try:
                runtime.invoke("bench.target")
                counts["ok"] += 1
            except Exception:
                counts["failed"] += 1

    thread = threading.Thread(target=load)
    started = time.perf_counter()
    thread.start()
    try:
        for version in range(1, 101):
            path.write_text(VERSIONED.format(version=version))
            _until(lambda v=version: _answer(runtime) == v)
    finally:
        stop.set()
        thread.join()
        runtime.close()
    elapsed = time.perf_counter() - started
    print(
        f"  in process: {counts['ok']:,} calls ok, {counts['failed']} failed during 100 redeploys "
        f"in {elapsed:.2f} s (goal: 0 failed)"
    )
    if with_server:
        _redeploys_over_http(work)


def _redeploys_over_http(work: Path) -> None:
    from portway import environment

    root = make_env(work / "loadhttp", 0)
    env = environment.load(root)
    path = root / "services" / "target.py"
    path.write_text(VERSIONED.format(version=0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "portway.server", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    key = env.admin_key()
    url = f"{env.base_url}/admin/api/services/bench.target/invoke"
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}

    def call() -> object:
        request = urllib.request.Request(url, data=b"{}", method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["payload"]

    stop = threading.Event()
    counts = {"ok": 0, "failed": 0}

    def load() -> None:
        while not stop.is_set():
            try:
                call()
                counts["ok"] += 1
            except Exception:
                counts["failed"] += 1

    try:
        wait_http(url, b"{}", key, 60, proc)
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        for version in range(1, 101):
            path.write_text(VERSIONED.format(version=version))
            _until(lambda v=version: call() == v)
        stop.set()
        for t in threads:
            t.join()
    finally:
        stop.set()
        proc.terminate()
        proc.wait(30)
    print(
        f"  over HTTP (4 client threads, real server): {counts['ok']:,} requests ok, "
        f"{counts['failed']} failed during 100 redeploys (goal: 0 failed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--skip-server", action="store_true", help="skip the sections that start the server")
    parser.add_argument("--warm-only", action="store_true", help="only section 1 (warm boot vs floor)")
    args = parser.parse_args()
    quiet_logs()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    work = Path(tempfile.mkdtemp(prefix="portway-bench-deploy-"))
    try:
        warm_and_cold(work, args.rounds, cold=not args.warm_only)
        if args.warm_only:
            return
        if not args.skip_server:
            server_start(work, args.rounds)
        save_latency(work, args.saves)
        redeploys_under_load(work, not args.skip_server)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
