"""Everything a running environment holds, without the HTTP server around it.

The server, the CLI's in-process commands and ``portway.testing`` all use a
:class:`Runtime`: plugins, config catalog, service registry, connection
pools, channels and the invoker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from pydantic import BaseModel

from portway import builtin_services, orphans
from portway.callstats import CallStats
from portway.catalog import Catalog
from portway.cluster import Cluster
from portway.connections import Connections
from portway.declarations import ConnectionType, Delivery, Runner
from portway.encryption import SecretBox
from portway.environment import Environment
from portway.file_policy import FilePolicy
from portway.hotdeploy.deployer import Deployer
from portway.httproutes import HttpRoutes
from portway.invocation import Invoker
from portway.leases import Lease, Leases, server_id
from portway.pickup.repository import PickupRepository
from portway.plugins import Plugins, load_plugins
from portway.pool import describe
from portway.redaction import KNOWN
from portway.registry import Deployed, Registry
from portway.service import Request, Response
from portway.store import Store, StoredItem

log = structlog.get_logger("portway.runtime")


class Runtime:
    """One environment, loaded: ready to invoke services and run channels."""

    def __init__(self, env: Environment, plugins: Plugins | None = None) -> None:
        self.env = env
        self.plugins = plugins or load_plugins(env.settings.plugins.disabled)
        self.store = Store.open(env)
        self.catalog = Catalog(
            self.store,
            SecretBox(env.secrets_key),
            self.plugins,
            files=FilePolicy.of(env),
            env_prefix=env.settings.security.env_prefix,
        )
        self.registry = Registry(history=env.settings.hotdeploy.history)
        # Counters behind /metrics and the statistics page; [metrics] enabled = false spares the cost.
        self.stats = CallStats() if env.settings.metrics.enabled else None
        self.connections = Connections(self.catalog, self.stats)
        self.invoker = Invoker(
            self.registry, self.connections, env.settings.server.service_threads, self.stats
        )
        self.server_id = server_id()
        self.cluster = (
            Cluster(env, self.store.db, self.server_id) if self.store.db.dialect == "postgresql" else None
        )
        self.deployer = Deployer(
            self.registry,
            self.cluster.pickup_dirs() if self.cluster is not None else env.pickup_dirs,
            cache_dir=env.cache_dir,
            import_timeout_s=env.settings.hotdeploy.import_timeout_s,
            max_file_bytes=env.settings.hotdeploy.max_file_bytes,
        )
        self.leases = Leases(self.store.db, self.server_id)
        self.channels = Channels(self)
        self.http_routes = HttpRoutes()
        self._revision = -1
        self.booting = False  # True while boot() deploys the pickup folders (readiness)
        self.registry.replace_source(
            "builtin:portway",
            [Deployed.of(cls, "builtin:portway", "builtin") for cls in builtin_services.SERVICES],
        )

    def boot(self, *, watch: bool = True) -> None:
        """Deploy services, watch the pickup folders (unless ``watch=False``) and start channels.

        On a PostgreSQL store the published code is brought up to the store's revision first,
        so a server that was down serves the current code from its first request.
        """
        self.booting = True
        try:
            if self.cluster is not None:
                self.cluster.before_boot()
            self.deployer.deploy_all()
            if watch:
                self.deployer.start_watching()
            if self.cluster is not None:
                self.cluster.start(self.deployer, watch=watch)
            self.refresh(force=True)
        finally:
            self.booting = False
        for orphan in orphans.find(self.plugins, self.store):
            log.warning(
                "orphaned_item", kind=orphan.kind, type=orphan.type, name=orphan.name, reason=orphan.reason
            )

    def invoke(
        self,
        name: str,
        payload: Any = None,
        *,
        channel: str = "invoke",
        headers: dict[str, str] | None = None,
        cid: str | None = None,
    ) -> Response:
        """Invoke a service by name from sync code."""
        return self.invoker.run(name, Request(payload, headers or {}, channel), cid=cid)

    @property
    def revision(self) -> int:
        """The config store revision last applied (-1 before the first)."""
        return self._revision

    def refresh(self, force: bool = False) -> bool:
        """Apply config changes made since the last look; return whether any were."""
        if self.cluster is not None:
            self.cluster.sync()
        revision = self.store.revision()
        if revision == self._revision and not force:
            return False
        self._revision = revision
        self.connections.invalidate()
        self.channels.sync(self.store.list("channel"))
        return True

    def deploy_status(self) -> dict[str, Any]:
        """Deployed services, failed files, helper modules, boot figures (see Deployer.status)."""
        return self.deployer.status()

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
        self.deployer.close()
        self.channels.stop_all(self.env.settings.server.drain_s)
        self.leases.close()
        self.connections.close()
        self.store.close()

    # ChannelHost, for channel plugins
    def dispatch(self, delivery: Delivery) -> Response:
        request = Request(delivery.payload, delivery.headers, delivery.channel, delivery.meta)
        type_name = self.channels.type_of(delivery.channel)
        if self.stats is None:
            return self.invoker.run(delivery.service, request, delivery.cid, type_name)
        counters = self.stats.channel(type_name, delivery.channel)
        try:
            response = self.invoker.run(delivery.service, request, delivery.cid, type_name)
        except BaseException:
            counters.took("failed")
            raise
        counters.took("succeeded")  # taken and its outcome under one lock: this runs for every message
        return response

    def count_message(self, channel: str, outcome: str) -> None:
        """Count what became of a channel's message beyond dispatch: ``backed_out``, ``moved_to_error``."""
        if self.stats is not None:
            self.stats.channel(self.channels.type_of(channel), channel).add(outcome)

    def report_lag(self, channel: str, messages: int) -> None:
        """Keep a channel's last reported consumer lag (messages waiting) for ``/metrics``."""
        if self.stats is not None:
            self.stats.channel(self.channels.type_of(channel), channel).lag = max(0, int(messages))

    def connection_settings(self, type_name: str, name: str) -> BaseModel:
        settings = self.catalog.resolve("connection", type_name, name)
        KNOWN.add_model(settings)
        return settings

    def connection_type(self, type_name: str) -> ConnectionType:
        return self.plugins.connection_type(type_name)

    @contextmanager
    def borrow(self, type_name: str, name: str) -> Iterator[Any]:
        pool = self.connections.pool(type_name, name)
        client = pool.borrow()
        try:
            yield client
        except BaseException as exc:
            pool.give_back(client, broken=pool.declaration.is_broken(exc))
            raise
        pool.give_back(client)

    def idempotent_repository(self, channel: str) -> PickupRepository:
        return PickupRepository(self.store.db, channel, self.server_id)

    def lease(self, name: str) -> Lease:
        return self.leases.take(name)


class Channels:
    """Running channels; restarted one by one when their config changes."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.running: dict[tuple[str, str], tuple[float, Runner]] = {}
        self.failures: dict[tuple[str, str], str] = {}
        self._types: dict[str, str] = {}  # channel name -> type, for counting what dispatch gets

    def type_of(self, channel: str) -> str:
        """The type of the channel named ``channel`` (``unknown`` for a name no channel has)."""
        return self._types.get(channel, "unknown")

    def sync(self, items: list[StoredItem]) -> None:
        wanted = {(i.type, i.name): i for i in items}
        drain = self.runtime.env.settings.server.drain_s
        for key, (stamp, runner) in list(self.running.items()):
            item = wanted.get(key)
            if item is None or item.updated_at != stamp:
                self._stop(key, runner, drain)
        for key, item in wanted.items():
            if key not in self.running:
                self._start(item)

    def status(self, type_name: str, name: str) -> dict[str, Any]:
        """A channel as this server runs it: running, its start error, and what its runner reports.

        Runners with a ``status()`` (the pickup channels) add their figures: last
        poll, files seen/taken/done/failed, the lease holder, the last errors.
        """
        self.runtime.catalog.show("channel", type_name, name)  # NotFoundError for an unknown channel
        key = (type_name, name)
        found: dict[str, Any] = {
            "type": type_name,
            "name": name,
            "server": self.runtime.server_id,
            "running": key in self.running,
            "error": self.failures.get(key),
        }
        runner = self.running.get(key)
        report = getattr(runner[1], "status", None) if runner else None
        if callable(report):
            found.update(report())
            lease = found.get("lease")
            if isinstance(lease, str):
                found["lease_holder"] = self.runtime.leases.holder_of(lease)
        return found

    def stop_all(self, drain_s: float) -> None:
        for key, (_stamp, runner) in list(self.running.items()):
            self._stop(key, runner, drain_s)

    def _start(self, item: StoredItem) -> None:
        key = (item.type, item.name)
        started = time.perf_counter()
        try:
            declaration = self.runtime.plugins.channel_type(item.type)
            settings = self.runtime.catalog.resolve_item(item)
            KNOWN.add_model(settings)
            # Known before it starts: its consumer threads may count messages at once.
            self._types[item.name] = item.type
            runner = declaration.start(item.name, settings, self.runtime)
        except Exception as exc:
            self.failures[key] = describe(exc)
            log.error("channel_start_failed", type=item.type, channel=item.name, error=describe(exc))
            return
        self.failures.pop(key, None)
        self.running[key] = (item.updated_at, runner)
        log.info(
            "channel_started",
            type=item.type,
            channel=item.name,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _stop(self, key: tuple[str, str], runner: Runner, drain_s: float) -> None:
        del self.running[key]
        try:
            runner.stop(drain_s)
        except Exception as exc:
            log.error("channel_stop_failed", type=key[0], channel=key[1], error=describe(exc))
        else:
            log.info("channel_stopped", type=key[0], channel=key[1])
