"""The HTTP channels' route table: (method, path) -> service.

Exact paths are one dict lookup; paths with ``{param}`` parts are tried in
order after that. The table is swapped whole on change, so lookups never lock.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from portway.errors import ConfigError

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Route:
    channel: str
    method: str
    path: str
    service: str
    pattern: re.Pattern[str] | None = field(default=None, compare=False)
    max_body_bytes: int | None = None  # None: [server] max_body_bytes
    timeout_s: float | None = None  # None: [server] service_timeout_s


def _compile(path: str) -> re.Pattern[str] | None:
    if "{" not in path:
        return None
    regex = _PARAM.sub(
        lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
    )
    return re.compile(f"^{regex}$")


class HttpRoutes:
    """Routes of every running HTTP channel."""

    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], Route] = {}
        self._patterns: tuple[Route, ...] = ()
        self._lock = threading.Lock()

    def add(
        self,
        channel: str,
        method: str,
        path: str,
        service: str,
        *,
        max_body_bytes: int | None = None,
        timeout_s: float | None = None,
    ) -> None:
        route = Route(channel, method.upper(), path, service, _compile(path), max_body_bytes, timeout_s)
        with self._lock:
            clash = self._exact.get((route.method, path)) or next(
                (r for r in self._patterns if (r.method, r.path) == (route.method, path)), None
            )
            if clash is not None and clash.channel != channel:
                raise ConfigError(
                    f"http channel {channel!r}",
                    f"{route.method} {path} is already served by channel {clash.channel!r}",
                )
            if route.pattern is None:
                exact = dict(self._exact)
                exact[(route.method, path)] = route
                self._exact = exact
            else:
                self._patterns = (*self._patterns, route)

    def remove(self, channel: str) -> None:
        with self._lock:
            self._exact = {k: r for k, r in self._exact.items() if r.channel != channel}
            self._patterns = tuple(r for r in self._patterns if r.channel != channel)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        route = self._exact.get((method, path))
        if route is not None:
            return route, {}
        for candidate in self._patterns:
            if candidate.method == method and candidate.pattern is not None:
                found = candidate.pattern.match(path)
                if found:
                    return candidate, found.groupdict()
        return None

    def allowed_methods(self, path: str) -> list[str]:
        methods = {m for (m, p) in self._exact if p == path}
        methods |= {r.method for r in self._patterns if r.pattern is not None and r.pattern.match(path)}
        return sorted(methods)

    def all(self) -> list[Route]:
        return sorted([*self._exact.values(), *self._patterns], key=lambda r: (r.path, r.method))
