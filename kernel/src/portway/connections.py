"""Live pools for every configured connection, rebuilt when config changes."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import structlog

from portway.deadline import TimedOut
from portway.errors import NotFoundError
from portway.pool import Pool, describe
from portway.redaction import KNOWN

if TYPE_CHECKING:
    from portway.callstats import CallStats
    from portway.catalog import Catalog

log = structlog.get_logger("portway.connections")


class Connections:
    """Pools by (type, name), opened lazily on first use."""

    def __init__(self, catalog: Catalog, stats: CallStats | None = None) -> None:
        self.catalog = catalog
        self.stats = stats
        self._pools: dict[tuple[str, str], Pool] = {}
        self._lock = threading.Lock()

    def pool(self, type_name: str, name: str) -> Pool:
        key = (type_name, name)
        found = self._pools.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._pools.get(key)
            if found is None:
                found = self._build(type_name, name)
                self._pools[key] = found
            return found

    def names(self, type_name: str) -> list[str]:
        return [item.name for item in self.catalog.store.list("connection", type_name)]

    def invalidate(self) -> None:
        """Drop every pool; the next use reads fresh settings. Lent clients close on return."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def live(self) -> list[Pool]:
        """The pools open now (a connection nobody used yet has none)."""
        return list(self._pools.values())

    def reap(self) -> None:
        for pool in list(self._pools.values()):
            pool.reap()

    def close(self) -> None:
        self.invalidate()

    def ping(self, type_name: str, name: str) -> float:
        """Open a fresh client, ping it and close it; return milliseconds.

        Connect and ping each get the connection's ``connect_timeout_s``.
        Raises :class:`~portway.errors.ConnectionFailed` with the reason.
        """
        from portway.errors import ConnectionFailed

        probe = self.detached(type_name, name)
        started = time.perf_counter()
        try:
            client = probe.connect()
            hung = False
            try:
                probe.ping(client)
            except TimedOut:
                hung = True
                raise
            finally:
                probe.close_client(client, hung=hung)
        except ConnectionFailed:
            raise
        except Exception as exc:
            raise ConnectionFailed(type_name, name, describe(exc)) from exc
        return (time.perf_counter() - started) * 1000

    def detached(self, type_name: str, name: str) -> Pool:
        """A pool of the connection's current settings that nothing shares: for one fresh client.

        Ping and plugins' CLI commands open their client with its
        :meth:`Pool.connect` (time limit included) and close it themselves.
        """
        return self._build(type_name, name)

    def _build(self, type_name: str, name: str) -> Pool:
        declaration = self.catalog.plugins.connection_type(type_name)
        try:
            item = self.catalog.store.get("connection", type_name, name)
        except NotFoundError:
            configured = ", ".join(repr(n) for n in self.names(type_name)) or "none"
            raise NotFoundError(
                f"{type_name} connection", name, f"configured {type_name} connections: {configured}"
            ) from None
        settings = self.catalog.resolve_item(item)
        KNOWN.add_model(settings)
        counters = None if self.stats is None else self.stats.pool(type_name, name)
        return Pool(declaration, name, settings, self.catalog.pool_settings(item), counters)


class Lease:
    """Clients lent to one service call; all given back when the call ends."""

    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self._held: list[tuple[Pool, object]] = []
        self._error: BaseException | None = None

    def take(self, type_name: str, name: str) -> object:
        pool = self.connections.pool(type_name, name)
        for held_pool, client in self._held:
            if held_pool is pool:
                return client
        client = pool.borrow()
        self._held.append((pool, client))
        return client

    def mark(self, exc: BaseException) -> None:
        """Note that the call failed with ``exc``; clients it broke are not reused."""
        self._error = exc

    def release(self) -> None:
        error = self._error
        for pool, client in self._held:
            broken = error is not None and _broke(pool, error)
            pool.give_back(client, broken=broken)
        self._held.clear()


def _broke(pool: Pool, exc: BaseException) -> bool:
    try:
        return bool(pool.declaration.is_broken(exc))
    except Exception as check_exc:  # a faulty check must not leak the client
        log.warning("is_broken_failed", connection=pool.name, reason=describe(check_exc))
        return True
