"""Running one service call: fresh instance, correlation id, pooled clients.

Sync ``handle`` runs on the caller's thread (the server puts it on a worker
thread); ``async def handle`` runs on the event loop. Clients borrowed
through ``self.out`` go back to their pools when the call ends, and are
discarded when the call's error says they broke.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from random import getrandbits
from typing import TYPE_CHECKING, Any

import structlog

from portway.callstats import CallStats
from portway.connections import Connections, Lease
from portway.errors import PortwayError
from portway.outgoing import Outgoing
from portway.registry import Deployed, Registry
from portway.service import Request, Response, Service

if TYPE_CHECKING:
    from anyio import CapacityLimiter
    from anyio.lowlevel import RunVar

log = structlog.get_logger("portway.service")


def new_cid() -> str:
    """A short, unique, URL-safe correlation id: 24 hex digits.

    A cid correlates log lines, it guards nothing, so it comes from the
    process's seeded PRNG (re-seeded after fork) rather than os.urandom:
    one syscall less on every request (bench/invoke.py's profile showed it).
    """
    return getrandbits(96).to_bytes(12, "big").hex()  # twice as fast as an f-string's :024x


class ServiceTimedOut(PortwayError):
    """A service did not answer within its call time limit; a sync one is left to finish alone."""

    def __init__(self, service: str, cid: str, timeout_s: float) -> None:
        self.service = service
        self.cid = cid
        self.timeout_s = timeout_s
        super().__init__(f"service {service!r} did not answer within {timeout_s:g} s (cid {cid})")


class ServiceFailed(PortwayError):
    """A service raised; carries its name and the call's correlation id."""

    def __init__(self, service: str, cid: str, error: BaseException) -> None:
        self.service = service
        self.cid = cid
        self.error = error
        super().__init__(f"service {service!r} failed: {type(error).__name__}: {error} (cid {cid})")


def _run_coroutine(coroutine: Coroutine[Any, Any, Response]) -> Response:
    """Run an async service from sync code, even where this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Sync code called from inside a running loop (a notebook, a sync API
    # wrapping async code): asyncio.run() refuses, so use a thread of its own.
    with ThreadPoolExecutor(1, thread_name_prefix="portway-async") as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Invocation:
    """The context of one call, behind ``self.invoke`` and ``self.out``."""

    __slots__ = ("_lease", "cid", "invoker")

    def __init__(self, invoker: Invoker, cid: str) -> None:
        self.invoker = invoker
        self.cid = cid
        self._lease: Lease | None = None  # made when the service first asks for a connection

    @property
    def lease(self) -> Lease:
        """The clients this call borrowed."""
        if self._lease is None:
            self._lease = Lease(self.invoker.connections)
        return self._lease

    def outgoing(self) -> Outgoing:
        return Outgoing(self.lease)

    def failed(self, exc: BaseException) -> None:
        """The call raised ``exc``: clients it broke are not given back for reuse."""
        if self._lease is not None:
            self._lease.mark(exc)

    def release(self) -> None:
        """Give every borrowed client back to its pool."""
        if self._lease is not None:
            self._lease.release()

    def invoke_nested(self, name: str, payload: Any) -> Any:
        return self.invoker.run(name, Request(payload, channel="invoke"), cid=self.cid).payload

    async def ainvoke_nested(self, name: str, payload: Any) -> Any:
        response = await self.invoker.arun(name, Request(payload, channel="invoke"), cid=self.cid)
        return response.payload


class Invoker:
    """Looks services up in the registry and runs them.

    From async code, sync services run on worker threads of their own
    (``threads`` at most at once), never on the default pool the admin API
    and console use: slow services cannot lock operators out.

    With ``stats``, every call is counted there under its service and
    ``channel_type`` (how it came in: ``http``, ``ibm_mq``, ``admin-api``,
    ``invoke`` for nested and in-process calls).
    """

    def __init__(
        self,
        registry: Registry,
        connections: Connections,
        threads: int = 40,
        stats: CallStats | None = None,
    ) -> None:
        self.registry = registry
        self.connections = connections
        self.threads = threads
        self.stats = stats
        self._limiter: RunVar[CapacityLimiter] | None = None  # one limiter per event loop

    def run(
        self, name: str, request: Request, cid: str | None = None, channel_type: str = "invoke"
    ) -> Response:
        """Run a service from sync code (a worker or consumer thread)."""
        deployed = self.registry.get(name)
        if deployed.is_async:
            return _run_coroutine(self.arun(name, request, cid, channel_type=channel_type))
        instance, invocation = self._prepare(deployed, request, cid)
        with self._outcome(deployed, invocation, channel_type):
            instance.handle()
        return instance.response

    async def arun(
        self,
        name: str,
        request: Request,
        cid: str | None = None,
        timeout_s: float | None = None,
        channel_type: str = "invoke",
    ) -> Response:
        """Run a service from async code; a sync service goes to a worker thread.

        With ``timeout_s``, a call that takes longer raises
        :class:`ServiceTimedOut`; a sync service's thread is abandoned (it
        runs on, its result is dropped), an async one is cancelled.
        """
        if timeout_s is None:
            return await self._arun(name, request, cid, channel_type)
        import anyio

        cid = cid or new_cid()
        with anyio.move_on_after(timeout_s):
            return await self._arun(name, request, cid, channel_type)
        log.error("service_timed_out", service=name, cid=cid, timeout_s=timeout_s)
        raise ServiceTimedOut(name, cid, timeout_s)

    async def _arun(self, name: str, request: Request, cid: str | None, channel_type: str) -> Response:
        deployed = self.registry.get(name)
        if not deployed.is_async:
            import anyio.to_thread

            # Abandoned on cancel: a timed-out call or a shutdown past drain_s
            # must not wait for a thread that may never finish.
            return await anyio.to_thread.run_sync(
                self.run,
                name,
                request,
                cid,
                channel_type,
                abandon_on_cancel=True,
                limiter=self._thread_limiter(),
            )
        instance, invocation = self._prepare(deployed, request, cid)
        with self._outcome(deployed, invocation, channel_type):
            await instance.handle()
        return instance.response

    def _thread_limiter(self) -> CapacityLimiter:
        from anyio import CapacityLimiter
        from anyio.lowlevel import RunVar

        if self._limiter is None:
            self._limiter = RunVar(f"portway-service-threads-{id(self)}")
        try:
            return self._limiter.get()
        except LookupError:
            limiter = CapacityLimiter(self.threads)
            self._limiter.set(limiter)
            return limiter

    def _outcome(self, deployed: Deployed, invocation: Invocation, channel_type: str) -> _Outcome:
        """Count the call, give borrowed clients back (discarding broken ones), wrap the service's error."""
        calls = None if self.stats is None else self.stats.calls(deployed.name, channel_type)
        return _Outcome(self, deployed, invocation, calls)

    def _prepare(self, deployed: Deployed, request: Request, cid: str | None) -> tuple[Service, Invocation]:
        invocation = Invocation(self, cid or new_cid())
        instance = deployed.cls()
        instance.request = request
        instance.response = Response()
        instance.cid = invocation.cid
        instance._service = deployed.name
        instance._invocation = invocation
        return instance, invocation

    def _failed(self, deployed: Deployed, invocation: Invocation, exc: Exception) -> ServiceFailed:
        log.error(
            "service_failed",
            service=deployed.name,
            cid=invocation.cid,
            source=deployed.source,
            error=f"{type(exc).__name__}: {exc}",
            exc_info=exc,
        )
        return ServiceFailed(deployed.name, invocation.cid, exc)


class _Outcome:
    """The block around a service's ``handle``: a class, not a generator, as it runs on every call."""

    __slots__ = ("calls", "deployed", "invocation", "invoker", "started")

    def __init__(self, invoker: Invoker, deployed: Deployed, invocation: Invocation, calls: Any) -> None:
        self.invoker = invoker
        self.deployed = deployed
        self.invocation = invocation
        self.calls = calls
        self.started = 0.0

    def __enter__(self) -> None:
        if self.calls is not None:
            self.started = self.calls.start()

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        # Failed unless the body ended normally: an error, a timeout's cancel, a shutdown.
        try:
            if exc is not None:
                self.invocation.failed(exc)
                if isinstance(exc, Exception) and not isinstance(exc, ServiceFailed):
                    raise self.invoker._failed(self.deployed, self.invocation, exc) from exc
        finally:
            if self.calls is not None:
                self.calls.finish(self.started, exc is not None)
            self.invocation.release()
