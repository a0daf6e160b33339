"""What the server counts while it runs: service calls, channel messages, pool use, deploys.

Kept cheap on the hot path: a call costs two lock round trips on its own
service's record (uncontended locks, tens of nanoseconds each), a
``bisect`` into a fixed table of duration buckets and a few integer
increments. Nothing here allocates per call once a service's record and its
current time buckets exist, and nothing imports ``prometheus_client``: the
scrape (:mod:`portway.server.metrics`) and the statistics endpoint read
these records when asked.

Durations go into fixed log-spaced buckets (:data:`FINE`, ten per decade,
1 µs to 100 s), so percentiles come out of counts without keeping samples;
a percentile is exact to one bucket (about 26 %). Recent calls also go into
two rings of time buckets: 10 s slots over the last 5 minutes and 1 min
slots over the last hour.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from time import perf_counter

_STEPS = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)
FINE: tuple[float, ...] = (*(round(m * 10.0**e, 12) for e in range(-6, 2) for m in _STEPS), 100.0)
"""Upper bounds (seconds) of the duration buckets; a last, open bucket takes anything slower."""
COARSE: tuple[float, ...] = (*(round(m * 10.0**e, 12) for e in range(-5, 1) for m in (1.0, 2.5, 5.0)), 10.0)
"""The histogram buckets ``/metrics`` shows (10 µs to 10 s): each one is also a :data:`FINE` bound."""
_COARSE_AT = tuple(FINE.index(b) for b in COARSE)

WINDOWS = {"5m": (10, 30), "1h": (60, 60)}
"""Rolling windows: name -> (slot width in seconds, slots)."""


class Ring:
    """Calls per time slot over a window: count, errors and duration buckets (sparse) per slot."""

    __slots__ = ("counts", "errors", "hists", "slots", "stamps", "width")

    def __init__(self, width: int, slots: int) -> None:
        self.width = width
        self.slots = slots
        self.stamps = [-1] * slots
        self.counts = [0] * slots
        self.errors = [0] * slots
        self.hists: list[dict[int, int]] = [{} for _ in range(slots)]

    def add(self, now: float, bucket: int, failed: bool) -> None:
        """Count one call (caller holds the record's lock)."""
        slot = int(now) // self.width
        k = slot % self.slots
        if self.stamps[k] != slot:
            self.stamps[k] = slot
            self.counts[k] = 0
            self.errors[k] = 0
            self.hists[k] = {}
        self.counts[k] += 1
        if failed:
            self.errors[k] += 1
        hist = self.hists[k]
        hist[bucket] = hist.get(bucket, 0) + 1

    def series(self, now: float) -> list[tuple[int, int, dict[int, int]]]:
        """(count, errors, buckets) per slot, oldest first, empty slots included."""
        current = int(now) // self.width
        out: list[tuple[int, int, dict[int, int]]] = []
        for slot in range(current - self.slots + 1, current + 1):
            k = slot % self.slots
            if self.stamps[k] == slot:
                out.append((self.counts[k], self.errors[k], dict(self.hists[k])))
            else:
                out.append((0, 0, {}))
        return out


class ServiceCalls:
    """Counters of one service called through one channel type; thread-safe."""

    __slots__ = ("_lock", "_ring_list", "buckets", "count", "errors", "in_flight", "rings", "total_s")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.errors = 0
        self.in_flight = 0
        self.total_s = 0.0
        self.buckets = [0] * (len(FINE) + 1)
        self.rings = {name: Ring(width, slots) for name, (width, slots) in WINDOWS.items()}
        self._ring_list = tuple(self.rings.values())

    def start(self) -> float:
        """A call begins; returns its start time for :meth:`finish`."""
        with self._lock:
            self.in_flight += 1
        return perf_counter()

    def finish(self, started: float, failed: bool) -> None:
        """A call ended (``failed``: it raised, timed out or was cancelled)."""
        now = perf_counter()
        seconds = now - started
        bucket = bisect_left(FINE, seconds)
        with self._lock:
            self.in_flight -= 1
            self.count += 1
            self.total_s += seconds
            self.buckets[bucket] += 1
            if failed:
                self.errors += 1
            for ring in self._ring_list:
                ring.add(now, bucket, failed)

    def snapshot(self) -> tuple[int, int, int, float, list[int]]:
        """count, errors, in flight, total seconds, duration buckets: one consistent reading."""
        with self._lock:
            return self.count, self.errors, self.in_flight, self.total_s, list(self.buckets)

    def window(self, name: str) -> list[tuple[int, int, dict[int, int]]]:
        with self._lock:
            return self.rings[name].series(perf_counter())


class PoolCounters:
    """What happened to one connection's pool, kept across the pool's rebuilds on config change."""

    __slots__ = (
        "_lock",
        "borrow_buckets",
        "borrow_count",
        "borrow_total_s",
        "broken_replaced",
        "pings_failed",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.borrow_count = 0
        self.borrow_total_s = 0.0
        self.borrow_buckets = [0] * (len(FINE) + 1)
        self.broken_replaced = 0
        self.pings_failed = 0

    def borrowed(self, seconds: float) -> None:
        bucket = bisect_left(FINE, seconds)
        with self._lock:
            self.borrow_count += 1
            self.borrow_total_s += seconds
            self.borrow_buckets[bucket] += 1

    def broken(self) -> None:
        with self._lock:
            self.broken_replaced += 1

    def ping_failed(self) -> None:
        with self._lock:
            self.pings_failed += 1


CHANNEL_OUTCOMES = ("taken", "succeeded", "failed", "backed_out", "moved_to_error")


class ChannelCounters:
    """Messages one channel took, and what became of them."""

    __slots__ = ("_lock", "counts", "lag")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts = dict.fromkeys(CHANNEL_OUTCOMES, 0)
        self.lag: int | None = None  # messages waiting, where the protocol tells it (MQ CURDEPTH)

    def add(self, outcome: str) -> None:
        if outcome not in self.counts:
            raise ValueError(f"unknown channel outcome {outcome!r}; one of {', '.join(CHANNEL_OUTCOMES)}")
        with self._lock:
            self.counts[outcome] += 1

    def took(self, outcome: str) -> None:
        """A message taken and done with at once (``succeeded`` or ``failed``): one lock, not two."""
        with self._lock:
            self.counts["taken"] += 1
            self.counts[outcome] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


class CallStats:
    """Every counter of one runtime, found by name; records are made on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.services: dict[tuple[str, str], ServiceCalls] = {}
        self.pools: dict[tuple[str, str], PoolCounters] = {}
        self.channels: dict[tuple[str, str], ChannelCounters] = {}

    def calls(self, service: str, channel_type: str) -> ServiceCalls:
        """The record of ``service`` called through ``channel_type``."""
        key = (service, channel_type)
        found = self.services.get(key)  # a dict read is atomic: no lock once it exists
        if found is None:
            with self._lock:
                found = self.services.setdefault(key, ServiceCalls())
        return found

    def pool(self, type_name: str, name: str) -> PoolCounters:
        key = (type_name, name)
        found = self.pools.get(key)
        if found is None:
            with self._lock:
                found = self.pools.setdefault(key, PoolCounters())
        return found

    def channel(self, type_name: str, name: str) -> ChannelCounters:
        key = (type_name, name)
        found = self.channels.get(key)
        if found is None:
            with self._lock:
                found = self.channels.setdefault(key, ChannelCounters())
        return found


def cumulative(buckets: list[int]) -> list[int]:
    """Fine bucket counts as cumulative counts at each :data:`COARSE` bound (for a histogram)."""
    out, running, start = [], 0, 0
    for at in _COARSE_AT:
        running += sum(buckets[start : at + 1])
        start = at + 1
        out.append(running)
    return out


def percentile(buckets: dict[int, int] | list[int], fraction: float) -> float | None:
    """The upper bound (seconds) of the bucket holding the ``fraction`` quantile; None without calls."""
    items: Iterable[tuple[int, int]] = buckets.items() if isinstance(buckets, dict) else enumerate(buckets)
    ordered = sorted((i, n) for i, n in items if n)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for index, n in ordered:
        seen += n
        if seen >= rank:
            return FINE[index] if index < len(FINE) else float("inf")
    return None  # pragma: no cover - seen reaches total
