"""Pickup channel tests' kit (here and in tests/sftp, tests/ftp): a recording service, a wait."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECORDER = """
import json, os, time
from portway import Service

LOG = {log!r}

class Record(Service):
    name = "pickup.record"

    def handle(self):
        meta = self.request.meta
        payload = self.request.payload
        data = payload if isinstance(payload, bytes) else open(payload, "rb").read()
        with open(LOG + ".started", "a") as f:
            f.write(repr(meta["name"]) + "\\n")
        row = {{"name": repr(meta["name"]), "size": len(data), "meta_size": meta["size"],
               "head": data[:40].decode("utf-8", "replace"), "streamed": not isinstance(payload, bytes),
               "connection": meta["connection"], "relpath": repr(meta["relpath"])}}
        if b"SLOW" in data and os.path.exists(LOG + ".slow"):
            time.sleep(float(open(LOG + ".slow").read() or "3"))
        with open(LOG, "a") as f:
            f.write(json.dumps(row) + "\\n")
        if b"FAIL" in data:
            raise RuntimeError("told to fail")
"""


class Recorded:
    """What the recording service saw, one dict per delivery."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def started(self) -> list[str]:
        started = self.path.with_name(self.path.name + ".started")
        return [eval(line) for line in started.read_text().splitlines()] if started.exists() else []

    def slow(self, seconds: float | None) -> None:
        """Make SLOW files take ``seconds`` in the service (``None``: not slow)."""
        flag = self.path.with_name(self.path.name + ".slow")
        if seconds is None:
            flag.unlink(missing_ok=True)
        else:
            flag.write_text(str(seconds))

    def names(self) -> list[str]:
        return [eval(row["name"]) for row in self.rows()]  # our own repr()s

    def wait(self, count: int, timeout_s: float = 15.0) -> list[dict[str, Any]]:
        wait_for(lambda: len(self.rows()) >= count, timeout_s, f"{count} deliveries; got {self.rows()}")
        return self.rows()


def wait_for(check: Callable[[], bool], timeout_s: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


FAST = {"poll_interval_s": 0.2, "read_lock_check_interval_s": 0.2}


def boot(env: Any) -> Any:
    """A runtime of ``env`` booted in this process, with the recording service deployed."""
    from portway.runtime import Runtime

    runtime = Runtime(env)
    runtime.boot(watch=False)
    return runtime


def deploy_recorder(runtime: Any, recorded: Recorded) -> None:
    path = runtime.env.pickup_dirs[0] / "recorder.py"
    path.write_text(RECORDER.format(log=str(recorded.path)))
    runtime.deployer.deploy(path)
    assert runtime.deployer.failures.get(str(path)) is None


def open_channel(runtime: Any, type_name: str, name: str, **settings: Any) -> Any:
    """Create a channel (fast polls), start it; its runner."""
    runtime.catalog.create("channel", type_name, name, {"service": "pickup.record", **FAST, **settings})
    runtime.refresh()
    return runtime.channels.running[(type_name, name)][1]


def write_slowly(path: Path, chunks: int = 6, pause_s: float = 0.15) -> int:
    """Write ``path`` in chunks with pauses, as a slow uploader does; its final size."""
    with open(path, "wb") as file:
        for index in range(chunks):
            file.write(f"chunk {index:02d};".encode() * 100)
            file.flush()
            time.sleep(pause_s)
    return len(b"chunk 00;") * 100 * chunks
