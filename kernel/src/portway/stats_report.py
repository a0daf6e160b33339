"""Per-service statistics, pool saturation and failing channels, as JSON-able data.

Read from :mod:`portway.callstats` on demand; behind ``GET /admin/api/stats``,
the console's statistics page and ``portway status``. Percentiles are the
upper bound of the duration bucket that holds them (within about 26 %).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from portway.callstats import WINDOWS, percentile

if TYPE_CHECKING:
    from portway.runtime import Runtime

QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
SORT_KEYS = ("name", "calls_5m", "errors_5m", "error_rate_5m", "p99_5m", "calls_1h", "p99_1h", "calls")


def _ms(seconds: float | None) -> float | None:
    if seconds is None:
        return None
    return None if seconds == float("inf") else round(seconds * 1000, 3)


def _window(series: Iterable[list[tuple[int, int, dict[int, int]]]], name: str) -> dict[str, Any]:
    """Merge the slots of one service's records (one per channel type) into a window summary."""
    merged: list[tuple[int, int, dict[int, int]]] = []
    for one in series:
        if not merged:
            merged = [(c, e, dict(h)) for c, e, h in one]
            continue
        for i, (count, errors, hist) in enumerate(one):
            c, e, h = merged[i]
            for bucket, n in hist.items():
                h[bucket] = h.get(bucket, 0) + n
            merged[i] = (c + count, e + errors, h)
    calls = sum(c for c, _, _ in merged)
    errors = sum(e for _, e, _ in merged)
    total: dict[int, int] = {}
    for _, _, hist in merged:
        for bucket, n in hist.items():
            total[bucket] = total.get(bucket, 0) + n
    out: dict[str, Any] = {
        "calls": calls,
        "errors": errors,
        "error_rate": round(errors / calls, 4) if calls else 0.0,
        **{f"{q}_ms": _ms(percentile(total, f)) for q, f in QUANTILES.items()},
        "series": [c for c, _, _ in merged],
        "error_series": [e for _, e, _ in merged],
        "slot_s": WINDOWS[name][0],
    }
    return out


def services(runtime: Runtime) -> list[dict[str, Any]]:
    """One row per service that was called: totals since start and the 5 min and 1 h windows."""
    stats = runtime.stats
    if stats is None:
        return []
    by_service: dict[str, list[Any]] = {}
    for (service, _channel_type), record in stats.services.copy().items():
        by_service.setdefault(service, []).append(record)
    rows = []
    for service, records in sorted(by_service.items()):
        snapshots = [r.snapshot() for r in records]
        row: dict[str, Any] = {
            "name": service,
            "calls": sum(s[0] for s in snapshots),
            "errors": sum(s[1] for s in snapshots),
            "in_flight": sum(s[2] for s in snapshots),
        }
        for name in WINDOWS:
            row[name] = _window((r.window(name) for r in records), name)
        rows.append(row)
    return rows


def sort_value(row: dict[str, Any], key: str) -> Any:
    """The value ``key`` (one of :data:`SORT_KEYS`) names in a service row; missing sorts low."""
    if key in ("name", "calls"):
        return row[key]
    field, _, window = key.rpartition("_")
    column = {"p99": "p99_ms"}.get(field, field)
    value = row[window].get(column)
    return -1.0 if value is None else value


def pools(runtime: Runtime) -> list[dict[str, Any]]:
    """Open pools: size, in use, waiters, whether at their limit, and what went wrong so far."""
    counters = runtime.stats.pools if runtime.stats is not None else {}
    rows = []
    for pool in sorted(runtime.connections.live(), key=lambda p: (p.declaration.name, p.name)):
        now = pool.stats()
        in_use = now["live"] - now["idle"]
        found = counters.get((pool.declaration.name, pool.name))
        rows.append(
            {
                "type": pool.declaration.name,
                "name": pool.name,
                "size": now["size"],
                "open": now["live"],
                "in_use": in_use,
                "waiters": now["waiters"],
                "at_limit": in_use >= now["size"],
                "saturation": round(in_use / now["size"], 3),
                "broken_replaced": found.broken_replaced if found else 0,
                "pings_failed": found.pings_failed if found else 0,
            }
        )
    return rows


def failing_channels(runtime: Runtime) -> list[dict[str, Any]]:
    """Channels that did not start, and channels with failed or moved-to-error messages since start."""
    rows: list[dict[str, Any]] = [
        {"type": t, "name": n, "error": reason, "failed": None}
        for (t, n), reason in sorted(runtime.channels.failures.items())
    ]
    stats = runtime.stats
    if stats is not None:
        for (type_name, name), counters in sorted(stats.channels.copy().items()):
            counts = counters.snapshot()
            bad = counts["failed"] + counts["moved_to_error"]
            if bad:
                rows.append({"type": type_name, "name": name, "error": None, "failed": bad, **counts})
    return rows


def report(runtime: Runtime) -> dict[str, Any]:
    """Everything ``GET /admin/api/stats`` answers."""
    return {
        "enabled": runtime.stats is not None,
        "windows": {name: {"slot_s": w, "slots": n} for name, (w, n) in WINDOWS.items()},
        "services": services(runtime),
        "pools": pools(runtime),
        "channels": failing_channels(runtime),
    }
