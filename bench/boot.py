"""Server start, first answer and stop, and CLI commands, each against its floor in the same run.

    .venv/bin/python bench/boot.py [--runs 7] [--services 1000]

(a) ``portway start --fg ENV`` to the first 200 from ``/admin/api/health``, against a bare
    uvicorn + Starlette app answering one route (goal <= 1.5x), empty and with 1,000
    services from a warm bytecode cache (goal <= 1.1x the empty figure);
(b) ``portway start ENV`` (background, returns when ready; goal <= 2x the --fg figure),
    ``portway stop ENV`` of an idle server (goal <= 0.5 s), and ``stop`` while a 1 s call
    runs: how long after that call's answer stop returns (goal <= 0.2 s);
(c) ``portway --help`` (goal <= 100 ms) and ``portway conn list ENV`` (goal <= 2x --help)
    against ``python -c pass``.

Every figure is the median of ``--runs`` fresh processes, peers interleaved with ours so
the machine's noise hits both. The load average is printed: compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
PORTWAY = str(BIN / "portway")

BARE_APP = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def health(request):
    return JSONResponse({"status": "ok"})

app = Starlette(routes=[Route("/admin/api/health", health)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

SLOW_SERVICE = """
import time
from portway import Service

class Slow(Service):
    name = "bench.slow"

    def handle(self) -> None:
        time.sleep(1.0)
        self.response.payload = {"slept": 1.0}
"""

SERVICE = """
from portway import Service

class S{i}(Service):
    name = "bench.s{i}"

    def handle(self) -> None:
        self.response.payload = {{"i": {i}}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environ() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's second start reads .pyc: so do we
    return env


def first_answer(cmd: list[str], port: int) -> float:
    """Seconds from spawning ``cmd`` to its first 200 on /admin/api/health; then stop it."""
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env=environ(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{' '.join(cmd)} exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/api/health", timeout=1) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.002)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def run(cmd: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=environ(), capture_output=True, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: `status` of a stopped server
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def make_env(root: Path, services: int = 0) -> tuple[str, int]:
    port = free_port()
    subprocess.run([PORTWAY, "create", str(root), "--port", str(port)], check=True, capture_output=True)
    toml = root / "portway.toml"
    # The test suite's deliberately broken plugin is not part of a user's install.
    toml.write_text(toml.read_text().replace("disabled = []", 'disabled = ["broken"]'))
    for index in range(services):
        (root / "services" / f"s{index}.py").write_text(SERVICE.format(i=index))
    (root / "services" / "slow.py").write_text(SLOW_SERVICE)
    subprocess.run(
        [
            PORTWAY,
            "channel",
            "create",
            str(root),
            "http",
            "slow",
            "--path",
            "/slow",
            "--service",
            "bench.slow",
        ],
        check=True,
        capture_output=True,
    )
    return str(root), port


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def interleaved(cases: dict[str, Callable[[], float]], runs: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            samples[name].append(case())
    return {name: median(values) for name, values in samples.items()}


def line(label: str, seconds: float, note: str = "") -> None:
    print(f"    {label:<38} {seconds * 1000:7.0f} ms  {note}")


def verdict(ratio: float, goal: float) -> str:
    return f"(goal <= {goal:g}: {'met' if ratio <= goal else 'MISSED'})"


def stop_after_call(env: str, port: int) -> float:
    """Seconds between a 1 s call's answer and ``portway stop`` returning, stop sent mid-call."""
    run([PORTWAY, "start", env])
    answered: list[float] = []

    def call() -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/slow", data=b"{}", method="POST")
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        answered.append(time.perf_counter())

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.3)
    run([PORTWAY, "stop", env])
    stopped = time.perf_counter()
    caller.join()
    if not answered:
        raise SystemExit("the in-flight call got no answer: stop did not drain it")
    return stopped - answered[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--services", type=int, default=1000)
    args = parser.parse_args()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="portway-boot-") as tmp:
        empty, empty_port = make_env(Path(tmp) / "empty")
        full, full_port = make_env(Path(tmp) / "full", args.services)
        bare_port = free_port()
        first_answer([PORTWAY, "start", "--fg", full], full_port)  # warms the bytecode cache
        a = interleaved(
            {
                "bare": lambda: first_answer([sys.executable, "-c", BARE_APP, str(bare_port)], bare_port),
                "empty": lambda: first_answer([PORTWAY, "start", "--fg", empty], empty_port),
                "full": lambda: first_answer([PORTWAY, "start", "--fg", full], full_port),
            },
            args.runs,
        )
        print(f"(a) start --fg to the first answer, median of {args.runs}")
        line("bare uvicorn + Starlette app", a["bare"])
        ratio = a["empty"] / a["bare"]
        line("portway, empty environment", a["empty"], f"{ratio:.2f}x bare {verdict(ratio, 1.5)}")
        ratio = a["full"] / a["empty"]
        line(
            f"portway, {args.services:,} services (warm cache)",
            a["full"],
            f"{ratio:.2f}x empty {verdict(ratio, 1.1)}",
        )

        def start_stop() -> tuple[float, float]:
            return run([PORTWAY, "start", empty]), run([PORTWAY, "stop", empty])

        pairs = [start_stop() for _ in range(args.runs)]
        start_s, stop_s = median([p[0] for p in pairs]), median([p[1] for p in pairs])
        after = median([stop_after_call(empty, empty_port) for _ in range(max(3, args.runs // 2))])
        print("(b) background start and stop")
        ratio = start_s / a["empty"]
        line("portway start (returns when ready)", start_s, f"{ratio:.2f}x --fg {verdict(ratio, 2)}")
        line("portway stop, idle server", stop_s, verdict(stop_s, 0.5))
        line("stop, after a 1 s call's answer", after, verdict(after, 0.2))

        c = interleaved(
            {
                "pass": lambda: run([sys.executable, "-c", "pass"]),
                "help": lambda: run([PORTWAY, "--help"]),
                "list": lambda: run([PORTWAY, "conn", "list", empty]),
            },
            args.runs * 2,
        )
        print(f"(c) CLI commands, median of {args.runs * 2}")
        line("python -c pass (floor)", c["pass"])
        line("portway --help", c["help"], verdict(c["help"], 0.1))
        ratio = c["list"] / c["help"]
        line("portway conn list ENV", c["list"], f"{ratio:.2f}x --help {verdict(ratio, 2)}")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
