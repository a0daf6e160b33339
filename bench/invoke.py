"""HTTP invoke throughput: portway channels vs a bare Starlette app, same run.

Starts the real portway server (``portway create`` + ``portway start``) with a
trivial sync and a trivial async service, each behind an HTTP channel, and a
bare Starlette app with equivalent JSON endpoints on uvicorn with the same
settings the portway server uses (one worker, uvicorn's auto loop and HTTP
implementation, no access log). Each case gets a warm-up, then the same
duration and concurrency from ``wrk`` (or, when wrk is missing, a keep-alive
load generator in a separate process). Rounds alternate ours/bare so machine
noise hits both alike; the median of the rounds is reported with the ratio
ours/bare (goal: >= 0.7). The server processes' CPU time per request is
printed too: on a busy, shared machine it is far steadier than req/s.

    .venv/bin/python bench/invoke.py [--seconds 5] [--connections 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

GOAL = 0.7
CASES = ("/sync", "/async")
PORTWAY = Path(sys.executable).with_name("portway")
PAYLOAD = {"name": "Ada", "n": 42}
EXPECTED = {"hello": "Ada", "n": 42}

SERVICES = """
from portway import Service


class SyncHello(Service):
    name = "bench.sync-hello"

    def handle(self) -> None:
        payload = self.request.payload
        self.response.payload = {"hello": payload["name"], "n": payload["n"]}


class AsyncHello(Service):
    name = "bench.async-hello"

    async def handle(self) -> None:
        payload = self.request.payload
        self.response.payload = {"hello": payload["name"], "n": payload["n"]}
"""

# The peer: what a user would write with Starlette alone. Starlette cannot read
# a request body in a plain ``def`` endpoint, so the sync case reads the body on
# the loop and runs the handler in Starlette's own threadpool, as portway does.
BARE_APP = """
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route


def hello(payload):
    return {"hello": payload["name"], "n": payload["n"]}


async def sync_endpoint(request):
    payload = await request.json()
    return JSONResponse(await run_in_threadpool(hello, payload))


async def async_endpoint(request):
    payload = await request.json()
    return JSONResponse(hello(payload))


app = Starlette(
    routes=[
        Route("/sync", sync_endpoint, methods=["POST"]),
        Route("/async", async_endpoint, methods=["POST"]),
    ]
)

if __name__ == "__main__":
    # The same uvicorn settings as portway.server.__main__.serve.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=int(sys.argv[1]), lifespan="on", log_config=None, access_log=False
    )
    uvicorn.Server(config).run()
"""

WRK_SCRIPT = f"""
wrk.method = "POST"
wrk.body = '{json.dumps(PAYLOAD)}'
wrk.headers["Content-Type"] = "application/json"
"""

# Fallback load generator: N keep-alive connections on one asyncio loop in its
# own process; counts complete 200 responses until the deadline.
PY_LOAD = """
import asyncio, json, sys, time

host, port, path, conns, seconds, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), \\
    float(sys.argv[5]), sys.argv[6].encode()
request = (f"POST {path} HTTP/1.1\\r\\nHost: {host}\\r\\nContent-Type: application/json\\r\\n"
           f"Content-Length: {len(body)}\\r\\n\\r\\n").encode() + body


async def worker(deadline, counts):
    reader, writer = await asyncio.open_connection(host, port)
    while time.monotonic() < deadline:
        writer.write(request)
        head = await reader.readuntil(b"\\r\\n\\r\\n")
        length = 0
        for line in head.split(b"\\r\\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
    writer.close()


async def main():
    counts = [0, 0]
    started = time.monotonic()
    await asyncio.gather(*(worker(started + seconds, counts) for _ in range(conns)))
    print(json.dumps({"ok": counts[0], "bad": counts[1], "elapsed": time.monotonic() - started}))


asyncio.run(main())
"""


@dataclass(frozen=True)
class Target:
    label: str
    port: int
    pid: int = 0


@dataclass(frozen=True)
class Run:
    """One timed load: throughput, and the server's CPU spent per request."""

    rate: float
    cpu_us: float  # server process CPU (user + system, all threads) per request; 0 when unknown


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads (Linux /proc); 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {deadline_s:g}s")


def check(port: int, path: str) -> None:
    """One request by hand: both servers must answer the same thing before we time them."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(PAYLOAD).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        got = json.loads(resp.read())
    if got != EXPECTED:
        raise SystemExit(f"127.0.0.1:{port}{path} answered {got!r}, expected {EXPECTED!r}")


def load(target: Target, path: str, seconds: float, connections: int, work: Path) -> Run:
    """Successful requests per second over ``seconds``, and the server's CPU per request."""
    before = cpu_seconds(target.pid)
    rate, count = _drive(target.port, path, seconds, connections, work)
    cpu = cpu_seconds(target.pid) - before
    return Run(rate, cpu / count * 1e6 if count and cpu else 0.0)


def _drive(port: int, path: str, seconds: float, connections: int, work: Path) -> tuple[float, int]:
    url = f"http://127.0.0.1:{port}{path}"
    body = json.dumps(PAYLOAD)
    wrk = shutil.which("wrk")
    if wrk:
        script = work / "post.lua"
        script.write_text(WRK_SCRIPT)
        out = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: (.*)", out)
        if bad or errors:
            raise SystemExit(f"wrk saw failures on {url}:\n{out}")
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        total = re.search(r"(\d+) requests in", out)
        if not found or not total:
            raise SystemExit(f"cannot read wrk's output:\n{out}")
        return float(found.group(1)), int(total.group(1))
    out = subprocess.run(
        [sys.executable, "-c", PY_LOAD, "127.0.0.1", str(port), path, str(connections), str(seconds), body],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    result = json.loads(out)
    if result["bad"]:
        raise SystemExit(f"{result['bad']} non-200 responses from {url}")
    return result["ok"] / result["elapsed"], int(result["ok"])


def portway(*args: str) -> None:
    done = subprocess.run([str(PORTWAY), *args], capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise SystemExit(f"portway {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def start_portway(work: Path, port: int) -> Path:
    env = work / "env"
    portway("create", str(env), "--port", str(port))
    (env / "services" / "bench_hello.py").write_text(SERVICES)
    portway(
        "channel",
        "create",
        str(env),
        "http",
        "bench-sync",
        "--path",
        "/sync",
        "--service",
        "bench.sync-hello",
    )
    portway(
        "channel",
        "create",
        str(env),
        "http",
        "bench-async",
        "--path",
        "/async",
        "--service",
        "bench.async-hello",
    )
    portway("start", str(env))
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="load duration per case and round")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per case")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--rounds", type=int, default=3, help="alternating ours/bare rounds; median reported")
    args = parser.parse_args()

    tool = (
        "wrk -t1" if shutil.which("wrk") else "python keep-alive generator (install wrk for better figures)"
    )
    print(f"load: {tool}, {args.connections} connections, {args.seconds:g}s x {args.rounds} rounds per case")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    results: dict[tuple[str, str], list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="portway-bench-") as tmp:
        work = Path(tmp)
        (work / "bare_app.py").write_text(textwrap.dedent(BARE_APP))
        bare_port = free_port()
        bare_proc = subprocess.Popen(
            [sys.executable, str(work / "bare_app.py"), str(bare_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=work,
        )
        env: Path | None = None
        try:
            port = free_port()
            env = start_portway(work, port)
            ours = Target("portway", port, int((env / "server.lock").read_text().split()[0]))
            bare = Target("starlette", bare_port, bare_proc.pid)
            wait_ready(bare.port)
            for path in CASES:
                for target in (ours, bare):
                    check(target.port, path)
                    load(target, path, args.warmup, args.connections, work)
            for _ in range(args.rounds):
                for path in CASES:
                    for target in (ours, bare):
                        results.setdefault((target.label, path), []).append(
                            load(target, path, args.seconds, args.connections, work)
                        )
        finally:
            if env is not None:
                subprocess.run([str(PORTWAY), "stop", str(env)], capture_output=True, timeout=60)
            bare_proc.terminate()
            bare_proc.wait(timeout=30)
    report(results)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def report(
    results: dict[tuple[str, str], list[Run]],
    ours: str = "portway",
    peer: str = "starlette",
    pair: str = "ours/bare",
    goal: float | None = None,
) -> float:
    """Medians per case; ratios are paired per round (same moment, same machine noise).

    ``results`` is keyed by (``ours`` or ``peer``, case path); returns the worst req/s ratio.
    """
    goal = GOAL if goal is None else goal
    print(
        f"{'case':<6} {ours + ' req/s':>15} {peer + ' req/s':>15} {'ratio':>6}"
        f" {ours + ' cpu/req':>16} {peer + ' cpu/req':>18} {'ratio':>6}"
    )
    worst = float("inf")
    for path in CASES:
        mine, theirs = results[(ours, path)], results[(peer, path)]
        rate_ratio = statistics.median(a.rate / b.rate for a, b in zip(mine, theirs, strict=True))
        worst = min(worst, rate_ratio)
        cpu_mine = statistics.median(r.cpu_us for r in mine)
        cpu_peer = statistics.median(r.cpu_us for r in theirs)
        # CPU per request inverted, so that > 1 means ours is cheaper, like the rate ratio.
        cpu_ratio = f"{cpu_peer / cpu_mine:6.2f}" if cpu_mine and cpu_peer else "     -"
        print(
            f"{path.strip('/'):<6} {statistics.median(r.rate for r in mine):>15.0f}"
            f" {statistics.median(r.rate for r in theirs):>15.0f} {rate_ratio:>6.2f}"
            f" {cpu_mine:>14.0f}us {cpu_peer:>16.0f}us {cpu_ratio}"
        )
        rounds = ", ".join(f"{a.rate:.0f}/{b.rate:.0f}" for a, b in zip(mine, theirs, strict=True))
        print(f"       rounds {pair} req/s: {rounds}")
    verdict = "meets" if worst >= goal else "is BELOW"
    print(f"worst req/s ratio {pair} {worst:.2f} {verdict} the goal of >= {goal}")
    print(
        f"(ratios are medians of per-round pairs; cpu ratio = {peer} cpu/req / {ours} cpu/req, "
        f"> 1 means {ours} is cheaper)"
    )
    return worst


if __name__ == "__main__":
    main()
