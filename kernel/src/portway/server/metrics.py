"""``GET /metrics``: the runtime's counters in the Prometheus text format.

``prometheus_client`` is imported on the first scrape, not at boot: a
server nobody scrapes never loads it, and the hot path never touches it.
A collector reads :mod:`portway.callstats` at scrape time and turns the
records into metric families (names and labels: docs/observability.md).

Counters are per process. A portway server is one process (one uvicorn
worker); in a cluster each server is scraped on its own and Prometheus
sums them, so the library's multiprocess mode is not needed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import structlog

from portway.callstats import COARSE, CallStats, cumulative

if TYPE_CHECKING:
    from portway.runtime import Runtime

log = structlog.get_logger("portway.metrics")

_LE = [f"{b:g}" for b in COARSE]


def _buckets(fine: list[int]) -> list[tuple[str, float]]:
    return [*zip(_LE, map(float, cumulative(fine)), strict=True), ("+Inf", float(sum(fine)))]


class RuntimeCollector:
    """Reads one runtime's counters at scrape time (a ``prometheus_client`` custom collector)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Any]:
        stats = self.runtime.stats
        if stats is not None:
            yield from _services(stats)
            yield from _channels(stats)
            yield from _pools(self.runtime, stats)
        yield from _deploys(self.runtime)


def _services(stats: CallStats) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

    labels = ["service", "channel_type"]
    calls = CounterMetricFamily(
        "portway_service_invocations_total",
        "Service calls that ended, by service and channel type",
        labels=labels,
    )
    errors = CounterMetricFamily(
        "portway_service_errors_total",
        "Service calls that raised, timed out or were cancelled",
        labels=labels,
    )
    flight = GaugeMetricFamily("portway_service_in_flight", "Service calls running now", labels=labels)
    duration = HistogramMetricFamily(
        "portway_service_duration_seconds", "How long service calls took", labels=labels
    )
    for (service, channel_type), record in sorted(stats.services.copy().items()):
        count, failed, in_flight, total_s, fine = record.snapshot()
        key = [service, channel_type]
        calls.add_metric(key, count)
        errors.add_metric(key, failed)
        flight.add_metric(key, in_flight)
        duration.add_metric(key, _buckets(fine), total_s)
    yield from (calls, errors, flight, duration)


def _channels(stats: CallStats) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    messages = CounterMetricFamily(
        "portway_channel_messages_total",
        "Messages channels took (taken) and what became of them",
        labels=["type", "channel", "outcome"],
    )
    lag = GaugeMetricFamily(
        "portway_channel_lag_messages",
        "Messages waiting for the channel, where the protocol tells it (IBM MQ: queue depth)",
        labels=["type", "channel"],
    )
    for (type_name, channel), counters in sorted(stats.channels.copy().items()):
        for outcome, n in counters.snapshot().items():
            messages.add_metric([type_name, channel, outcome], n)
        if counters.lag is not None:
            lag.add_metric([type_name, channel], counters.lag)
    yield messages
    yield lag


def _pools(runtime: Runtime, stats: CallStats) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

    labels = ["type", "name"]
    size = GaugeMetricFamily("portway_pool_size", "Most clients a connection's pool may hold", labels=labels)
    in_use = GaugeMetricFamily("portway_pool_in_use", "Clients lent to calls now", labels=labels)
    waiters = GaugeMetricFamily("portway_pool_waiters", "Calls waiting for a free client now", labels=labels)
    for pool in sorted(runtime.connections.live(), key=lambda p: (p.declaration.name, p.name)):
        now = pool.stats()
        key = [pool.declaration.name, pool.name]
        size.add_metric(key, now["size"])
        in_use.add_metric(key, now["live"] - now["idle"])
        waiters.add_metric(key, now["waiters"])
    wait = HistogramMetricFamily(
        "portway_pool_borrow_wait_seconds",
        "How long borrowing a client took (opening one included)",
        labels=labels,
    )
    broken = CounterMetricFamily(
        "portway_pool_broken_replaced_total", "Clients discarded because a call broke them", labels=labels
    )
    pings = CounterMetricFamily(
        "portway_pool_pings_failed_total", "Idle clients that failed their check before a loan", labels=labels
    )
    for (type_name, name), counters in sorted(stats.pools.copy().items()):
        key = [type_name, name]
        wait.add_metric(key, _buckets(list(counters.borrow_buckets)), counters.borrow_total_s)
        broken.add_metric(key, counters.broken_replaced)
        pings.add_metric(key, counters.pings_failed)
    yield from (size, in_use, waiters, wait, broken, pings)


def _deploys(runtime: Runtime) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    deployer = runtime.deployer
    yield CounterMetricFamily(
        "portway_deploys_total", "Service files deployed (boot and hot-deploy)", value=deployer.files_deployed
    )
    yield CounterMetricFamily(
        "portway_deploy_failures_total", "Service files that failed to deploy", value=deployer.files_failed
    )
    boot_ms = deployer.last_boot.get("ms")
    if boot_ms is not None:
        yield GaugeMetricFamily(
            "portway_boot_duration_seconds", "How long the last boot deploy took", value=boot_ms / 1000
        )
    yield GaugeMetricFamily("portway_services", "Services deployed now", value=len(runtime.registry.all()))
    yield GaugeMetricFamily(
        "portway_config_revision", "Config store revision this server applied", value=runtime.revision
    )


class Scrape:
    """The runtime's collector registry, made on the first scrape, with the process collectors."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._registry: Any = None
        self._lock = threading.Lock()
        self._own: Any = None

    def registry(self) -> Any:
        with self._lock:
            if self._registry is None:
                from prometheus_client import (
                    CollectorRegistry,
                    GCCollector,
                    PlatformCollector,
                    ProcessCollector,
                )

                registry = CollectorRegistry(auto_describe=False)
                ProcessCollector(registry=registry)
                PlatformCollector(registry=registry)
                GCCollector(registry=registry)
                registry.register(RuntimeCollector(self.runtime))
                self._registry = registry
            return self._registry

    def render(self) -> tuple[bytes, str]:
        """The scrape: the text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry()), CONTENT_TYPE_LATEST

    def serve_own(self, bind: str) -> None:
        """Serve /metrics alone on ``bind`` (``HOST:PORT``), from a thread, until :meth:`close`."""
        from prometheus_client import start_http_server

        host, _, port = bind.rpartition(":")
        self._own, _thread = start_http_server(int(port), host or "127.0.0.1", self.registry())
        log.info("metrics_listening", bind=bind)

    def close(self) -> None:
        if self._own is not None:
            self._own.shutdown()
            self._own.server_close()
            self._own = None
