"""A bounded pool of live clients for one configured connection.

Clients are reused across calls; one idle longer than ``check_after_s`` is
pinged before it is lent, one idle longer than ``idle_timeout_s`` is closed,
and one that broke during a call is discarded and replaced on demand.
Connect and ping are given ``connect_timeout_s`` at most
(:mod:`portway.deadline`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel, Field

from portway.deadline import TimedOut, within
from portway.declarations import ConnectionType
from portway.errors import ConnectionFailed, describe

if TYPE_CHECKING:
    from portway.callstats import PoolCounters

__all__ = ["Pool", "PoolSettings", "describe"]  # describe is errors'; kernel modules import it from here too

log = structlog.get_logger("portway.pool")


class PoolSettings(BaseModel):
    """Pooling options every connection has, whatever its type."""

    model_config = {"extra": "forbid", "frozen": True}

    # Upper bounds keep every value a valid timeout for threading waits (a 1e19 s wait overflows).
    size: int = Field(4, ge=1, le=1000, description="Most live clients at once")
    idle_timeout_s: float = Field(300, gt=0, le=7 * 86400, description="Close a client idle this long")
    check_after_s: float = Field(
        30, ge=0, le=86400, description="Ping a client idle this long before lending it (0: always)"
    )
    borrow_timeout_s: float = Field(30, gt=0, le=3600, description="Wait this long for a free client")
    connect_timeout_s: float = Field(
        30, gt=0, le=3600, description="Longest a connect, or a ping, may take before it counts as timed out"
    )


@dataclass
class _Idle:
    client: Any
    since: float


class Pool:
    """Clients of one connection; thread-safe."""

    def __init__(
        self,
        declaration: ConnectionType,
        name: str,
        settings: BaseModel,
        options: PoolSettings,
        counters: PoolCounters | None = None,
    ) -> None:
        self.declaration = declaration
        self.name = name
        self.settings = settings
        self.options = options
        self.counters = counters  # borrow waits, broken clients, failed pings (portway.callstats)
        self._idle: deque[_Idle] = deque()
        self._live = 0
        self.waiters = 0  # callers waiting for a free client right now
        self._closed = False
        self._cond = threading.Condition()

    def borrow(self) -> Any:
        """Lend a working client, opening one if the pool has room."""
        if self.counters is None:
            return self._borrow()
        started = time.perf_counter()
        try:
            return self._borrow()
        finally:
            self.counters.borrowed(time.perf_counter() - started)

    def _borrow(self) -> Any:
        deadline = time.monotonic() + self.options.borrow_timeout_s
        while True:
            with self._cond:
                self._check_open()
                idle = self._idle.pop() if self._idle else None
                if idle is None and self._live < self.options.size:
                    self._live += 1
                    make_new = True
                elif idle is None:
                    self.waiters += 1
                    try:
                        woken = self._cond.wait(max(0.0, deadline - time.monotonic()))
                    finally:
                        self.waiters -= 1
                    if not woken:
                        raise ConnectionFailed(
                            self.declaration.name,
                            self.name,
                            f"all {self.options.size} pooled clients are busy; "
                            "raise the pool size or shorten the calls",
                        )
                    continue
                else:
                    make_new = False
            if make_new:
                return self._open()
            if self._usable(idle):  # type: ignore[arg-type]
                return idle.client  # type: ignore[union-attr]

    def give_back(self, client: Any, broken: bool = False) -> None:
        """Return a client; a broken one is closed and its slot freed."""
        if broken and self.counters is not None:
            self.counters.broken()
        with self._cond:
            if broken or self._closed:
                self._live -= 1
            else:
                self._idle.append(_Idle(client, time.monotonic()))
            self._cond.notify()
        if broken or self._closed:
            self._close_quietly(client)

    def reap(self) -> int:
        """Close clients idle past the timeout; return how many."""
        limit = time.monotonic() - self.options.idle_timeout_s
        with self._cond:
            stale = [i for i in self._idle if i.since < limit]
            for item in stale:
                self._idle.remove(item)
            self._live -= len(stale)
            self._cond.notify_all()
        for item in stale:
            self._close_quietly(item.client)
        return len(stale)

    def close(self) -> None:
        """Close idle clients now and lent ones when they come back."""
        with self._cond:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
            self._live -= len(idle)
            self._cond.notify_all()
        for item in idle:
            self._close_quietly(item.client)

    def stats(self) -> dict[str, int]:
        """Clients open (``live``), of them idle, the most allowed (``size``), callers waiting."""
        with self._cond:
            return {
                "live": self._live,
                "idle": len(self._idle),
                "size": self.options.size,
                "waiters": self.waiters,
            }

    def connect(self) -> Any:
        """A new client, not counted in the pool; the plugin's connect, within the time limit."""
        declaration = self.declaration
        return within(
            self.options.connect_timeout_s,
            "connect",
            lambda: declaration.connect(self.settings),
            self._close_quietly,
        )

    def ping(self, client: Any) -> None:
        """The plugin's ping of ``client``, within the time limit."""
        within(self.options.connect_timeout_s, "ping", lambda: self.declaration.ping(client))

    def _open(self) -> Any:
        try:
            return self.connect()
        except BaseException as exc:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            if isinstance(exc, ConnectionFailed):
                raise
            raise ConnectionFailed(self.declaration.name, self.name, describe(exc)) from exc

    def _usable(self, idle: _Idle) -> bool:
        age = time.monotonic() - idle.since
        if age > self.options.idle_timeout_s:  # stale, not broken: closed without being counted
            with self._cond:
                self._live -= 1
                self._cond.notify()
            self._close_quietly(idle.client)
            return False
        if age < self.options.check_after_s:
            return True
        try:
            self.ping(idle.client)
        except Exception as exc:
            log.info("pool_client_replaced", connection=self.name, reason=describe(exc))
            if self.counters is not None:
                self.counters.ping_failed()
            with self._cond:
                self._live -= 1
                self._cond.notify()
            self.close_client(idle.client, hung=isinstance(exc, TimedOut))
            return False
        return True

    def _check_open(self) -> None:
        if self._closed:
            raise ConnectionFailed(self.declaration.name, self.name, "connection was reconfigured or removed")

    def close_client(self, client: Any, hung: bool = False) -> None:
        """Close a client that is out of the pool; one whose call ``hung`` is closed on a thread of
        its own, since closing it may wait for that call (a reader's lock) and the caller must not."""
        if hung:
            threading.Thread(
                target=self._close_quietly, args=(client,), name="portway-close", daemon=True
            ).start()
        else:
            self._close_quietly(client)

    def _close_quietly(self, client: Any) -> None:
        try:
            self.declaration.close(client)
        except Exception as exc:  # closing a dead client may fail; it is gone either way
            log.debug("pool_close_failed", connection=self.name, reason=describe(exc))
