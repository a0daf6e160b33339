"""What ``portway status`` prints of ``GET /admin/api/stats``: the busiest and slowest services,
and pools at their limit."""

from __future__ import annotations

from typing import Any

TOP = 5


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g} ms"


def stats_lines(stats: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(line, colour or None) to print; nothing when the server counts nothing."""
    if not stats.get("enabled"):
        return [("  statistics: off ([metrics] enabled = false)", None)]
    lines: list[tuple[str, str | None]] = []
    called = [row for row in stats["services"] if row["1h"]["calls"]]
    if called:
        lines.append(("  top services by calls (last hour):", None))
        for row in sorted(called, key=lambda r: -r["1h"]["calls"])[:TOP]:
            hour = row["1h"]
            lines.append(
                (
                    f"    {row['name']}: {hour['calls']} calls, {hour['errors']} errors,"
                    f" p99 {_ms(hour['p99_ms'])}",
                    "red" if hour["errors"] else None,
                )
            )
        timed = [row for row in called if row["5m"]["p99_ms"] is not None]
        if timed:
            lines.append(("  top services by p99 (last 5 minutes):", None))
            for row in sorted(timed, key=lambda r: -r["5m"]["p99_ms"])[:TOP]:
                five = row["5m"]
                lines.append(
                    (f"    {row['name']}: p99 {_ms(five['p99_ms'])}, p50 {_ms(five['p50_ms'])}", None)
                )
    for pool in stats["pools"]:
        if pool["at_limit"]:
            lines.append(
                (
                    f"  pool at its limit: {pool['type']} {pool['name']}: {pool['in_use']}/{pool['size']}"
                    f" in use, {pool['waiters']} waiting",
                    "yellow",
                )
            )
    for channel in stats["channels"]:
        why = channel["error"] or f"{channel['failed']} messages failed or moved to error"
        lines.append((f"  channel {channel['type']} {channel['name']}: {why}", "red"))
    return lines
