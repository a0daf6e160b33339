"""The live set of services: swapped atomically, one source file at a time.

Readers never lock: ``get`` reads one dict that writers replace whole, so a
request sees either the old or the new version of a file, never half.
A request holds on to the class it got, so in-flight calls finish on the
version they started with.

History for rollback is bounded: ``history`` previous versions per service
(``[hotdeploy] history``), none once a service is undeployed. A version
that leaves the registry is handed to ``on_release`` so whoever froze it
out of the garbage collector's way (the boot's ``gc.freeze()``) knows it
may now be collected.
"""

from __future__ import annotations

import inspect
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from portway.errors import DeployError, NotFoundError
from portway.service import Service

DEFAULT_HISTORY = 1
_CO_COROUTINE = inspect.CO_COROUTINE


def is_async_handle(handle: object) -> bool:
    """Whether ``handle`` is an ``async def``, as ``inspect.iscoroutinefunction`` says.

    A plain function without attributes (thousands at boot) is answered by its code flag; anything
    else (partials, wrapped or marked callables) by ``inspect``.
    """
    if type(handle) is types.FunctionType:
        if handle.__code__.co_flags & _CO_COROUTINE:
            return True
        if not handle.__dict__:  # no attribute, so no coroutine marker either
            return False
    return inspect.iscoroutinefunction(handle)


class Deployed(NamedTuple):
    """One deployed version of a service (immutable; a tuple because thousands are made at boot)."""

    name: str
    cls: type[Service]
    source: str
    version: str
    deployed_at: float
    is_async: bool

    @classmethod
    def of(cls, service: type[Service], source: str, version: str, at: float | None = None) -> Deployed:
        # tuple.__new__ directly: the generated NamedTuple __new__ is a Python call per service.
        return tuple.__new__(
            cls,
            (
                service.name,
                service,
                source,
                version,
                time.time() if at is None else at,
                is_async_handle(service.handle),
            ),
        )


class Registry:
    """Services by name, with per-service history for rollback.

    ``history``: how many versions before the live one each service keeps for rollback.
    ``on_release``: called (under the registry's write lock) with each version dropped.
    """

    def __init__(
        self,
        history: int = DEFAULT_HISTORY,
        on_release: Callable[[Deployed], None] | None = None,
    ) -> None:
        self._live: dict[str, Deployed] = {}
        self._by_source: dict[str, tuple[str, ...]] = {}
        # Versions deployed before the live one, oldest first; none until a service is replaced
        # (so a boot of thousands of services keeps no history at all).
        self._previous: dict[str, list[Deployed]] = {}
        self._kept = history
        self.on_release = on_release
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
        errors = self.apply({source: list(services)})
        if errors:
            raise errors[source]

    def remove_source(self, source: str) -> tuple[str, ...]:
        """Undeploy every service that came from ``source``; return their names."""
        names = self._by_source.get(source, ())
        self.apply({source: None})
        return names

    def apply(self, changes: Mapping[str, Sequence[Deployed] | None]) -> dict[str, DeployError]:
        """Apply many per-source changes in one swap; ``None`` removes a source.

        Each source is all-or-nothing: a source whose services clash with
        another source's names keeps its previous version and gets a
        :class:`DeployError` naming both files in the returned dict. Sources
        are tried in order; one that clashes is tried again after the others,
        so a service moved from one file to another in the same batch deploys.
        """
        errors: dict[str, DeployError] = {}
        with self._write:
            live = dict(self._live)
            by_source = dict(self._by_source)
            for source, incoming in changes.items():
                if incoming is None:
                    self._drop_source(source, live, by_source)
            waiting = [(s, i) for s, i in changes.items() if i is not None]
            for round_ in (0, 1):
                retry = []
                for source, incoming in waiting:
                    if len(incoming) == 1 and self._put_one(source, incoming[0], live, by_source):
                        if errors:
                            errors.pop(source, None)
                        continue  # the common case, kept lean: thousands at boot
                    error = self._clash(source, incoming, live)
                    if error is not None:
                        retry.append((source, incoming))
                        errors[source] = error
                        continue
                    if errors:
                        errors.pop(source, None)
                    replaced = [live.get(item.name) for item in incoming]
                    self._drop_source(source, live, by_source)
                    for item, old in zip(incoming, replaced, strict=True):
                        live[item.name] = item
                        if old is not None:
                            self._keep(old, item)
                    if incoming:
                        by_source[source] = tuple([d.name for d in incoming])
                    else:
                        by_source.pop(source, None)
                waiting = retry
                if not waiting or round_ == 1:
                    break
            old_by_source, self._by_source = self._by_source, by_source
            touched = old_by_source.keys() & changes.keys()  # C-level; few at boot, when new are many
            gone = [n for s in touched for n in old_by_source[s] if n not in live] if touched else []
            old_live, self._live = self._live, live  # the one swap readers see
            for name in gone:  # undeployed: nothing left to roll back to
                last = old_live.get(name)
                self._release([*self._previous.pop(name, ()), *([last] if last is not None else [])])
        return errors

    def _put_one(
        self, source: str, item: Deployed, live: dict[str, Deployed], by_source: dict[str, tuple[str, ...]]
    ) -> bool:
        """Make ``item`` the one service of ``source``; False (nothing changed) if its name is taken."""
        name = item.name
        current = live.get(name)
        if current is not None and current.source != source:
            return False
        old = by_source.get(source)
        if old is not None and old != (name,):
            self._drop_source(source, live, by_source)
        live[name] = item
        by_source[source] = (name,)
        if current is not None:
            self._keep(current, item)
        return True

    @staticmethod
    def _drop_source(source: str, live: dict[str, Deployed], by_source: dict[str, tuple[str, ...]]) -> None:
        for name in by_source.pop(source, ()):
            current = live.get(name)
            if current is not None and current.source == source:
                del live[name]

    def rollback(self, name: str) -> Deployed:
        """Go back to the version deployed before the live one (the live one is dropped)."""
        with self._write:
            previous = self._previous.get(name)
            if name not in self._live or not previous:
                kept = self._kept
                raise NotFoundError(
                    "earlier version of service",
                    name,
                    f"nothing to roll back to ([hotdeploy] history keeps {kept} earlier "
                    f"version{'' if kept == 1 else 's'} of each service, from saves since the start)",
                )
            back = previous.pop()
            live = dict(self._live)
            self._release([live[name]])
            live[name] = back
            self._live = live
            return back

    def history(self, name: str) -> list[Deployed]:
        """The versions of ``name`` kept, oldest first, the live one last; empty when not deployed."""
        live = self._live.get(name)
        return [*self._previous.get(name, ()), live] if live is not None else []

    def _keep(self, old: Deployed, new: Deployed) -> None:
        """``new`` replaced ``old``: keep ``old`` for rollback, within the bound."""
        if old.version == new.version and old.source == new.source:
            self._release([old])  # the same version again (a redeploy after a rollback)
            return
        previous = self._previous.setdefault(new.name, [])
        previous.append(old)
        excess = len(previous) - self._kept
        if excess > 0:
            self._release(previous[:excess])
            del previous[:excess]

    def _release(self, versions: Iterable[Deployed]) -> None:
        if self.on_release is not None:
            for version in versions:
                self.on_release(version)

    @staticmethod
    def _clash(source: str, incoming: Sequence[Deployed], live: dict[str, Deployed]) -> DeployError | None:
        seen: set[str] = set()
        for item in incoming:
            if item.name in seen:
                return DeployError(source, None, f"service {item.name!r} is defined twice in this file")
            seen.add(item.name)
            current = live.get(item.name)
            if current is not None and current.source != source:
                return DeployError(
                    source,
                    None,
                    f"service {item.name!r} is defined in both {source} and {current.source}; "
                    "rename one of them (set `name = ...` on the class)",
                )
        return None
