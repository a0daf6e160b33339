"""The admin REST API under ``/admin/api``: connections, channels, services, plugins.

Every endpoint but ``/health`` and ``/health/ready`` needs the environment's API key
(``ENV/admin.key``) as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``.
Errors are JSON: ``{"error": ..., "field": ...}`` with 400, 401, 404, 409, 413, 502, 504;
a 500 always carries the ``cid`` its log line has.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import structlog
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portway import actions, stats_report
from portway.errors import (
    ConfigError,
    ConflictError,
    ConnectionFailed,
    NotFoundError,
    PortwayError,
    SettingError,
)
from portway.invocation import ServiceFailed, ServiceTimedOut, new_cid
from portway.plugins import distribution_of
from portway.publishing import PublishRefused
from portway.redaction import KNOWN, without_credentials
from portway.runtime import Runtime
from portway.server import payloads
from portway.server.cluster_api import ClusterApi
from portway.server.limits import BodyTooLarge
from portway.views import connection_type_view, plugin_views, service_view

Handler = Callable[[Request], Awaitable[Response]]
READY_STORE_TIMEOUT_S = 2.0  # a readiness probe must answer well within a load balancer's timeout
log = structlog.get_logger("portway.admin_api")


def error_response(exc: BaseException) -> JSONResponse:
    """Map a portway error to its HTTP status and JSON body."""
    body: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, SettingError):
        body["field"] = exc.field
        return JSONResponse(body, 400)
    if isinstance(exc, PublishRefused):
        return JSONResponse({**body, "files": exc.as_json()}, 400)
    if isinstance(exc, (ConfigError, payloads.BadPayload)):
        return JSONResponse(body, 400)
    if isinstance(exc, NotFoundError):
        return JSONResponse(body, 404)
    if isinstance(exc, ConflictError):
        return JSONResponse(body, 409)
    if isinstance(exc, ConnectionFailed):
        return JSONResponse(body, 502)
    if isinstance(exc, BodyTooLarge):
        return JSONResponse({**body, "limit": exc.limit}, 413, headers={"connection": "close"})
    if isinstance(exc, ServiceTimedOut):
        body["cid"] = exc.cid
        return JSONResponse(body, 504)
    if isinstance(exc, ServiceFailed):
        body["cid"] = exc.cid
        return JSONResponse(body, 500)
    body["cid"] = cid = new_cid()
    log.error("admin_api_failed", cid=cid, error=str(exc), exc_info=exc)
    return JSONResponse(body, 500)


class AdminApi:
    """Route handlers bound to one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.key = runtime.env.admin_key()
        KNOWN.add(self.key)  # masked in every log line from now on
        # What this process loaded: `portway status` compares it with what is installed now.
        self.loaded = {name: distribution_of(name)[1] for name in runtime.plugins.statuses}
        server = runtime.env.settings.server
        self.max_json_depth = server.max_json_depth
        self.timeout_s = server.service_timeout_s
        self.cluster = ClusterApi(runtime, self._json)

    def routes(self) -> list[Route]:
        g = self._guard
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/health/ready", self.ready, methods=["GET"]),
            Route("/stats", g(self.stats), methods=["GET"]),
            Route("/plugins", g(self.plugins), methods=["GET"]),
            Route("/connection-types", g(self.connection_types), methods=["GET"]),
            Route("/connections", g(self.list_connections), methods=["GET"]),
            Route("/connections", g(self.create_connection), methods=["POST"]),
            Route("/connections/{type}/{name}", g(self.show_connection), methods=["GET"]),
            Route("/connections/{type}/{name}", g(self.update_connection), methods=["PATCH"]),
            Route("/connections/{type}/{name}", g(self.delete_connection), methods=["DELETE"]),
            Route("/connections/{type}/{name}/ping", g(self.ping_connection), methods=["POST"]),
            Route("/connections/{type}/{name}/actions/{action}", g(self.run_action), methods=["POST"]),
            Route("/channels", g(self.list_channels), methods=["GET"]),
            Route("/channels", g(self.create_channel), methods=["POST"]),
            Route("/channels/{type}/{name}", g(self.show_channel), methods=["GET"]),
            Route("/channels/{type}/{name}", g(self.delete_channel), methods=["DELETE"]),
            Route("/channels/{type}/{name}/status", g(self.channel_status), methods=["GET"]),
            Route("/services", g(self.services), methods=["GET"]),
            Route("/services/{name}/invoke", g(self.invoke), methods=["POST"]),
            Route("/deploy", g(self.deploy_status), methods=["GET"]),
            Route("/deploy/rollback/{name}", g(self.deploy_rollback), methods=["POST"]),
            Route("/deploy/files", g(self.cluster.publish), methods=["POST"]),
            Route("/deploy/files", g(self.cluster.published), methods=["GET"]),
            Route("/cluster", g(self.cluster.servers), methods=["GET"]),
            Route("/reload", g(self.reload), methods=["POST"]),
        ]

    def guard(self, handler: Handler) -> Handler:
        """``handler``, answering 401 unless the request carries the admin API key."""
        return self._guard(handler)

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            given = request.headers.get("x-api-key") or _bearer(request.headers.get("authorization", ""))
            if not given or not hmac.compare_digest(given.encode(), self.key.encode()):
                return JSONResponse(
                    {"error": "missing or wrong API key; send it as 'Authorization: Bearer <ENV/admin.key>'"},
                    401,
                    headers={"www-authenticate": "Bearer"},
                )
            try:
                return await handler(request)
            except PortwayError as exc:
                return error_response(exc)

        return guarded

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(self, request: Request) -> Response:
        """200 when this server can take work; 503 while booting or when the store does not answer."""
        problems: list[str] = []
        if self.rt.booting:
            problems.append("the boot deploy is running")
        try:
            with anyio.fail_after(READY_STORE_TIMEOUT_S):
                await to_thread.run_sync(self.rt.store.revision, abandon_on_cancel=True)
        except Exception as exc:  # unreachable, timed out, or anything else: not ready either way
            problems.append(f"the config store does not answer ({type(exc).__name__})")
        # Names only: this endpoint needs no key, and a start error may name hosts.
        failing = [{"type": t, "name": n} for t, n in sorted(self.rt.channels.failures)]
        body = {"ready": not problems, "problems": problems, "failing_channels": failing}
        return JSONResponse(body, 503 if problems else 200)

    async def stats(self, request: Request) -> Response:
        return JSONResponse(await to_thread.run_sync(stats_report.report, self.rt))

    async def plugins(self, request: Request) -> Response:
        rows = await to_thread.run_sync(plugin_views, self.rt.plugins)
        return JSONResponse(
            [{**row, "version": self.loaded.get(row["name"], row["version"])} for row in rows]
        )

    async def connection_types(self, request: Request) -> Response:
        types = self.rt.plugins.connection_types.values()
        return JSONResponse([connection_type_view(t) for t in sorted(types, key=lambda t: t.name)])

    async def list_connections(self, request: Request) -> Response:
        type_name = request.query_params.get("type")
        items = await to_thread.run_sync(self.rt.catalog.list, "connection", type_name)
        return JSONResponse([i.as_dict() for i in items])

    async def create_connection(self, request: Request) -> Response:
        body = await self._json(request, required=("type", "name"))
        view = await to_thread.run_sync(
            lambda: self.rt.catalog.create(
                "connection", body["type"], body["name"], _dict(body, "settings"), _dict(body, "pool")
            )
        )
        await self._changed()
        return JSONResponse(view.as_dict(), 201)

    async def show_connection(self, request: Request) -> Response:
        p = request.path_params
        view = await to_thread.run_sync(self.rt.catalog.show, "connection", p["type"], p["name"])
        return JSONResponse(view.as_dict())

    async def update_connection(self, request: Request) -> Response:
        p = request.path_params
        body = await self._json(request)
        view = await to_thread.run_sync(
            lambda: self.rt.catalog.update(
                "connection", p["type"], p["name"], _dict(body, "settings"), _dict(body, "pool")
            )
        )
        await self._changed()
        return JSONResponse(view.as_dict())

    async def delete_connection(self, request: Request) -> Response:
        p = request.path_params
        await to_thread.run_sync(self.rt.catalog.delete, "connection", p["type"], p["name"])
        await self._changed()
        return Response(status_code=204)

    async def ping_connection(self, request: Request) -> Response:
        p = request.path_params
        try:
            ms = await to_thread.run_sync(self.rt.connections.ping, p["type"], p["name"])
        except ConnectionFailed as exc:
            return JSONResponse({"ok": False, "reason": exc.reason})
        return JSONResponse({"ok": True, "ms": round(ms, 2)})

    async def run_action(self, request: Request) -> Response:
        p = request.path_params
        body = await self._json(request, allow_empty=True)
        result = await to_thread.run_sync(
            lambda: actions.run(self.rt.connections, p["type"], p["name"], p["action"], body)
        )
        return JSONResponse({"result": result})

    async def list_channels(self, request: Request) -> Response:
        type_name = request.query_params.get("type")
        items = await to_thread.run_sync(self.rt.catalog.list, "channel", type_name)
        running = self.rt.channels.running
        failures = self.rt.channels.failures
        return JSONResponse(
            [
                {
                    **i.as_dict(),
                    "running": (i.type, i.name) in running,
                    "error": failures.get((i.type, i.name)),
                }
                for i in items
            ]
        )

    async def create_channel(self, request: Request) -> Response:
        body = await self._json(request, required=("type", "name"))
        view = await to_thread.run_sync(
            lambda: self.rt.catalog.create("channel", body["type"], body["name"], _dict(body, "settings"))
        )
        await self._changed()
        return JSONResponse(view.as_dict(), 201)

    async def show_channel(self, request: Request) -> Response:
        p = request.path_params
        view = await to_thread.run_sync(self.rt.catalog.show, "channel", p["type"], p["name"])
        return JSONResponse(view.as_dict())

    async def channel_status(self, request: Request) -> Response:
        p = request.path_params
        report = await to_thread.run_sync(self.rt.channels.status, p["type"], p["name"])
        return JSONResponse(report)

    async def delete_channel(self, request: Request) -> Response:
        p = request.path_params
        await to_thread.run_sync(self.rt.catalog.delete, "channel", p["type"], p["name"])
        await self._changed()
        return Response(status_code=204)

    async def services(self, request: Request) -> Response:
        return JSONResponse([service_view(d) for d in self.rt.registry.all()])

    async def invoke(self, request: Request) -> Response:
        name = request.path_params["name"]
        payload = payloads.parse(
            request.headers.get("content-type", "application/json"), await request.body(), self.max_json_depth
        )
        response = await self.rt.invoker.arun(
            name, _as_request(payload, request), timeout_s=self.timeout_s, channel_type="admin-api"
        )
        rendered = actions.as_json(response.payload)
        return JSONResponse({"status": response.status, "payload": rendered, "headers": response.headers})

    async def deploy_status(self, request: Request) -> Response:
        return JSONResponse(self.rt.deploy_status())

    async def deploy_rollback(self, request: Request) -> Response:
        name = request.path_params["name"]
        previous = await to_thread.run_sync(self._rollback, name, request.client)
        return JSONResponse(service_view(previous))

    def _rollback(self, name: str, client: Any) -> Any:
        """Published code rolls back on every server (republished); a local file on this one."""
        cluster = self.rt.cluster
        if cluster is not None:
            who = f"rollback by admin-api {client.host if client else '?'}"
            if cluster.rollback_source(self.rt.registry.get(name).source, who) is not None:
                return self.rt.registry.get(name)
        return self.rt.deployer.rollback(name)

    async def reload(self, request: Request) -> Response:
        changed = await to_thread.run_sync(self.rt.refresh)
        return JSONResponse({"changed": changed})

    async def _changed(self) -> None:
        await to_thread.run_sync(self.rt.refresh)

    async def _json(self, request: Request, required: tuple[str, ...] = (), allow_empty: bool = False) -> Any:
        raw = await request.body()
        if not raw and allow_empty:
            return {}
        body = payloads.load_json(raw, self.max_json_depth)
        if not isinstance(body, dict):
            raise payloads.BadPayload("request body must be a JSON object")
        for key in required:
            if not isinstance(body.get(key), str) or not body[key]:
                raise SettingError("request", key, "required; give a non-empty string")
        return body


def _as_request(payload: Any, request: Request) -> Any:
    from portway.service import Request as ServiceRequest

    # The admin key (and any cookie) is the operator's, not the service's to read or log.
    return ServiceRequest(payload, without_credentials(request.headers), "admin-api")


def _bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _dict(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise SettingError("request", key, "must be a JSON object")
    return value
