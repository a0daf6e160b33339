"""The statistics page: per-service calls, error rate and p50/p95/p99 over 5 min and 1 h, sortable,
with a sparkline each; its rows are fetched again every few seconds by ``static/statistics.js``."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portway import stats_report
from portway.console.sessions import ConsoleSession
from portway.console.site import Site
from portway.console.sparkline import sparkline

COLUMNS = [
    ("name", "Service"),
    ("calls_5m", "Calls 5 min"),
    ("error_rate_5m", "Errors 5 min"),
    ("p99_5m", "p50 / p95 / p99 5 min"),
    ("calls_1h", "Calls 1 h"),
    ("p99_1h", "p50 / p95 / p99 1 h"),
]


class StatisticsPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    def routes(self) -> list[Route]:
        page = self.site.page
        return [
            Route("/statistics", page(self.show), methods=["GET"]),
            Route("/statistics/rows", page(self.rows), methods=["GET"]),
        ]

    async def _context(self, request: Request) -> dict[str, Any]:
        sort = request.query_params.get("sort", "calls_5m")
        if sort not in stats_report.SORT_KEYS:
            sort = "calls_5m"
        descending = request.query_params.get("order", "desc" if sort != "name" else "asc") != "asc"
        report = await to_thread.run_sync(stats_report.report, self.site.runtime)
        rows = sorted(report["services"], key=lambda r: stats_report.sort_value(r, sort), reverse=descending)
        for row in rows:
            row["spark"] = sparkline(row["5m"]["series"], row["5m"]["error_series"])
        return {"report": report, "rows": rows, "sort": sort, "descending": descending, "columns": COLUMNS}

    async def show(self, request: Request, session: ConsoleSession) -> Response:
        return self.site.render(request, "statistics.html", session, **await self._context(request))

    async def rows(self, request: Request, session: ConsoleSession) -> Response:
        return self.site.render(request, "statistics_rows.html", session, **await self._context(request))
