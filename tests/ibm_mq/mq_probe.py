"""Shared between the tests and the services they deploy: what each service saw.

Services import it by name (``import mq_probe``); the tests' folder is on
``sys.path`` under pytest, so both sides get the same module object.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Killed(BaseException):
    """Raised by a service to make its consumer thread die mid-message, as a kill would."""


@dataclass
class Seen:
    payload: Any
    mq: Any
    headers: dict[str, str]
    thread: str
    jms: Any = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Probe:
    seen: list[Seen] = field(default_factory=list)
    fail: set[Any] = field(default_factory=set)  # payloads whose service raises every time
    fail_once: set[Any] = field(default_factory=set)
    kill_once: set[Any] = field(default_factory=set)
    kill: set[Any] = field(default_factory=set)  # payloads that kill their consumer every time
    block: dict[Any, threading.Event] = field(default_factory=dict)
    entered: dict[Any, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(
        self, payload: Any, mq: Any, headers: dict[str, str], jms: Any = None, properties: Any = None
    ) -> None:
        key = payload if isinstance(payload, str | bytes | int) else None  # JSON payloads are not keys
        with self.lock:
            thread = threading.current_thread().name
            self.seen.append(Seen(payload, mq, dict(headers), thread, jms, dict(properties or {})))
            entered = self.entered.get(key)
            fail_once = key in self.fail_once
            self.fail_once.discard(key)
            kill = key in self.kill_once or key in self.kill
            self.kill_once.discard(key)
        if entered is not None:
            entered.set()
        gate = self.block.get(key)
        if gate is not None:
            gate.wait(30)
        if kill:
            raise Killed(payload)
        if fail_once or key in self.fail:
            raise RuntimeError(f"service refuses {payload!r}")

    def payloads(self) -> list[Any]:
        with self.lock:
            return [s.payload for s in self.seen]

    def gate(self, payload: Any) -> tuple[threading.Event, threading.Event]:
        """(entered, release) events for a payload the service should hold."""
        self.entered[payload] = threading.Event()
        self.block[payload] = threading.Event()
        return self.entered[payload], self.block[payload]


probe = Probe()


def reset() -> None:
    """Start afresh, keeping the same object (services bound it at import)."""
    fresh = Probe()
    for name in fresh.__dataclass_fields__:
        setattr(probe, name, getattr(fresh, name))


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.005)
