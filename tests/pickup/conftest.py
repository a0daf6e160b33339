"""Pickup channels on real folders: a recording service, a way to create a channel, a wait."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    return Recorded(tmp_path / "recorded.jsonl")


@pytest.fixture
def recorder_source(recorded: Recorded) -> str:
    return RECORDER.format(log=str(recorded.path))


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


FAST = {"poll_interval_s": 0.2, "read_lock_check_interval_s": 0.2}
