"""The server's ASGI app: admin API and console under /admin, channels everywhere else.

The lifespan boots the runtime (deploys services, starts channels), runs
two light background loops (config refresh, idle pool reaping) and, on
shutdown, stops channels (draining them) and closes the pools. On a
PostgreSQL store the config refresh runs when another writer's change is
notified (LISTEN/NOTIFY) and, as a safety net, every 30 s; on SQLite it
polls the store revision every second.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from portway.changes import listener_for
from portway.runtime import Runtime
from portway.server import openapi
from portway.server.admin_api import AdminApi
from portway.server.channels import ChannelApp
from portway.server.failsafe import Failsafe, exception_handlers
from portway.server.limits import BodyLimit
from portway.server.metrics import Scrape
from portway.server.redirects import RelativeRedirects

log = structlog.get_logger("portway.server")

CONFIG_POLL_S = 1.0  # SQLite: how often the store revision is compared
CONFIG_POLL_LISTENING_S = 30.0  # PostgreSQL: notifications do the work, the poll is a safety net
REAP_EVERY_S = 30.0


class ServerApp:
    """Routes each request by its path prefix; handles the lifespan itself."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.metrics = runtime.env.settings.metrics.enabled
        self.channels = ChannelApp(runtime)
        limit = runtime.env.settings.server.admin_max_body_bytes
        self.admin = Failsafe(
            RelativeRedirects(BodyLimit(build_admin(runtime), limit, "[server] admin_max_body_bytes"))
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not _is_admin(path) and not (self.metrics and path == "/metrics"):
            await self.channels(scope, receive, send)
        else:
            await self.admin(scope, receive, send)


def _is_admin(path: str) -> bool:
    return path.startswith("/admin") or path == "/openapi.json"


def build_admin(runtime: Runtime) -> Starlette:
    api = AdminApi(runtime)
    scrape = Scrape(runtime)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi.document(runtime))

    async def metrics(request: Request) -> Response:
        body, content_type = await to_thread.run_sync(scrape.render)
        return Response(body, headers={"content-type": content_type})

    routes: list[Route | Mount] = [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Mount("/admin/api", routes=api.routes()),
    ]
    settings = runtime.env.settings.metrics
    if settings.enabled:
        routes.append(Route("/metrics", metrics if settings.public else api.guard(metrics), methods=["GET"]))
    console = _console(runtime)
    if console is not None:
        routes.append(Mount("/admin", app=console))
    return Starlette(
        routes=routes,
        lifespan=lambda app: _lifespan(runtime, scrape),
        exception_handlers=exception_handlers(),
    )


def _console(runtime: Runtime) -> Any:
    if not runtime.env.settings.console.enabled:
        return None
    return LazyConsole(runtime)


class LazyConsole:
    """The console, built on its first request: a server nobody opens the console of never
    imports its templates (jinja2) or password hashing (argon2)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._app: Any = None
        self._building = asyncio.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._app is None:
            async with self._building:
                if self._app is None:
                    self._app = await to_thread.run_sync(self._build)
        await self._app(scope, receive, send)

    def _build(self) -> Any:
        from portway.console.app import build_console

        return build_console(self.runtime)


@contextlib.asynccontextmanager
async def _lifespan(runtime: Runtime, scrape: Scrape) -> AsyncIterator[None]:
    bind = runtime.env.settings.metrics.bind
    if runtime.env.settings.metrics.enabled and bind:
        await to_thread.run_sync(scrape.serve_own, bind)
    await to_thread.run_sync(runtime.boot)
    if runtime.cluster is not None:
        await to_thread.run_sync(runtime.cluster.start_heartbeat)
    runtime.plugins.call_each("portway_startup", server=runtime)
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    listener = listener_for(runtime.store.db, lambda: loop.call_soon_threadsafe(changed.set))
    if listener is not None:
        listener.start()

    def poll_s() -> float:  # the safety-net interval only while notifications really arrive
        listening = listener is not None and listener.listening.is_set()
        return CONFIG_POLL_LISTENING_S if listening else CONFIG_POLL_S

    tasks = [
        asyncio.create_task(_refresh_on_change(runtime, changed, poll_s)),
        asyncio.create_task(_every(REAP_EVERY_S, runtime.connections.reap)),
    ]
    log.info("server_ready", url=runtime.env.base_url, services=len(runtime.registry.all()))
    try:
        yield
    finally:
        if listener is not None:
            await to_thread.run_sync(listener.stop)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await to_thread.run_sync(runtime.close)
        await to_thread.run_sync(scrape.close)
        runtime.plugins.call_each("portway_shutdown", server=runtime)
        log.info("server_stopped")


async def _refresh_on_change(runtime: Runtime, changed: asyncio.Event, poll_s: Callable[[], float]) -> None:
    """Apply config changes when told of one, or every ``poll_s()`` seconds at the latest."""
    failing = False
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), poll_s())
        changed.clear()
        try:
            await to_thread.run_sync(runtime.refresh)
        except Exception as exc:  # keep refreshing and serving what we have; log once per outage
            if not failing:
                log.warning("background_task_failed", task="refresh", error=str(exc))
            failing = True
            continue
        if failing:
            log.info("background_task_back", task="refresh")
            failing = False


async def _every(seconds: float, work: Any) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await to_thread.run_sync(work)
        except Exception as exc:  # keep polling; a transient store error must not stop it
            log.warning("background_task_failed", task=getattr(work, "__name__", "task"), error=str(exc))
