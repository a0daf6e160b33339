"""The live set of services: swapped atomically, one source file at a time.

Readers never lock: ``get`` reads one dict that writers replace whole, so a
request sees either the old or the new version of a file, never half.
A request holds on to the class it got, so in-flight calls finish on the
version they started with.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from portway.errors import DeployError, NotFoundError
from portway.service import Service

HISTORY_DEPTH = 5


@dataclass(frozen=True)
class Deployed:
    """One deployed version of a service."""

    name: str
    cls: type[Service]
    source: str
    version: str
    deployed_at: float
    is_async: bool

    @classmethod
    def of(cls, service: type[Service], source: str, version: str) -> Deployed:
        return cls(
            name=service.name,
            cls=service,
            source=source,
            version=version,
            deployed_at=time.time(),
            is_async=inspect.iscoroutinefunction(service.handle),
        )


class Registry:
    """Services by name, with per-service history for rollback."""

    def __init__(self) -> None:
        self._live: dict[str, Deployed] = {}
        self._by_source: dict[str, tuple[str, ...]] = {}
        self._history: dict[str, list[Deployed]] = {}
        self._write = threading.Lock()

    def get(self, name: str) -> Deployed:
        try:
            return self._live[name]
        except KeyError:
            raise NotFoundError(
                "service", name, "see `portway deploy list ENV` for deployed services"
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in self._live

    def all(self) -> list[Deployed]:
        return sorted(self._live.values(), key=lambda d: d.name)

    def sources(self) -> dict[str, tuple[str, ...]]:
        return dict(self._by_source)

    def replace_source(self, source: str, services: Iterable[Deployed]) -> None:
        """Make ``services`` the whole content of ``source``, in one swap.

        Raises :class:`DeployError` (and changes nothing) when a service name
        is already served by another source.
        """
        incoming = list(services)
        with self._write:
            self._check_clashes(source, incoming)
            live = dict(self._live)
            for name in self._by_source.get(source, ()):
                live.pop(name, None)
            for item in incoming:
                live[item.name] = item
                self._remember(item)
            self._by_source[source] = tuple(d.name for d in incoming)
            if not incoming:
                del self._by_source[source]
            self._live = live

    def remove_source(self, source: str) -> tuple[str, ...]:
        """Undeploy every service that came from ``source``; return their names."""
        with self._write:
            names = self._by_source.pop(source, ())
            live = dict(self._live)
            for name in names:
                live.pop(name, None)
            self._live = live
        return names

    def rollback(self, name: str) -> Deployed:
        """Go back to the version deployed before the live one."""
        with self._write:
            history = self._history.get(name, [])
            if name not in self._live or len(history) < 2:
                raise NotFoundError("earlier version of service", name, "nothing to roll back to")
            history.pop()
            previous = history[-1]
            live = dict(self._live)
            live[name] = previous
            self._live = live
            return previous

    def history(self, name: str) -> list[Deployed]:
        return list(self._history.get(name, []))

    def _remember(self, item: Deployed) -> None:
        history = self._history.setdefault(item.name, [])
        if history and history[-1].version == item.version and history[-1].source == item.source:
            history[-1] = item
            return
        history.append(item)
        del history[:-HISTORY_DEPTH]

    def _check_clashes(self, source: str, incoming: list[Deployed]) -> None:
        seen: dict[str, str] = {}
        for item in incoming:
            if item.name in seen:
                raise DeployError(source, None, f"service {item.name!r} is defined twice")
            seen[item.name] = source
            current = self._live.get(item.name)
            if current is not None and current.source != source:
                raise DeployError(
                    source,
                    None,
                    f"service {item.name!r} is already deployed from {current.source}; "
                    "rename one of them (set `name = ...` on the class)",
                )
