"""The ASGI handler behind every HTTP channel: route, parse, invoke, render.

Kept as a bare ASGI function: it is the hot path, and a per-request
framework router would only repeat the lookup the route table already did.
Every answer is computed first and sent in one place, so any failure on the
way still gets a JSON answer (see :mod:`portway.server.failsafe`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog

from portway.console.security import cookie_name
from portway.errors import NotFoundError
from portway.invocation import ServiceFailed, ServiceTimedOut, new_cid
from portway.redaction import without_cookies
from portway.runtime import Runtime
from portway.server import failsafe, payloads
from portway.server.limits import BodyTooLarge, ClientGone, Headers, check_declared, read_body, too_large
from portway.service import Request

log = structlog.get_logger("portway.http")

Scope = dict[str, Any]
Answer = tuple[int, bytes, Headers]
_JSON = (b"content-type", b"application/json")
# The console's session cookie is sent to every path of the host: services never need it.
_CONSOLE_COOKIES = (cookie_name(True), cookie_name(False))


async def _send(send: Any, status: int, body: bytes, headers: Headers) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _error(status: int, message: str, cid: str | None = None) -> tuple[int, bytes]:
    data: dict[str, Any] = {"error": message}
    if cid:
        data["cid"] = cid
    return status, json.dumps(data).encode()


class ChannelApp:
    """ASGI app serving every HTTP channel of a runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        server = runtime.env.settings.server
        self.max_body_bytes = server.max_body_bytes
        self.max_json_depth = server.max_json_depth
        self.timeout_s = server.service_timeout_s

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        try:
            status, body, headers = await self._answer(scope, receive)
        except ClientGone:
            return
        except BodyTooLarge as exc:
            status, body, headers = too_large(exc)
        except asyncio.CancelledError:  # drain_s is over; see failsafe
            status, body, headers = failsafe.shutting_down(scope)
        except Exception as exc:
            status, body, headers = failsafe.internal_error(failsafe.report(scope, exc))
        await _send(send, status, body, headers)

    async def _answer(self, scope: Scope, receive: Any) -> Answer:
        method, path = scope["method"], scope["path"]
        found = self.runtime.http_routes.match(method, path)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        cid = headers.get("x-cid") or new_cid()
        cid_header = (b"x-cid", cid.encode())
        if found is None:
            allowed = self.runtime.http_routes.allowed_methods(path)
            status, body = (
                _error(405, f"{method} not allowed on {path}; use {', '.join(allowed)}")
                if allowed
                else _error(404, f"no channel serves {method} {path}")
            )
            return status, body, [_JSON, cid_header]
        route, params = found
        limit = route.max_body_bytes or self.max_body_bytes
        setting = (
            f"channel {route.channel!r} max_body_bytes" if route.max_body_bytes else "[server] max_body_bytes"
        )
        check_declared(scope["headers"], limit, setting)
        raw = await read_body(receive, limit, setting)
        try:
            payload = payloads.parse(headers.get("content-type", ""), raw, self.max_json_depth)
        except payloads.BadPayload as exc:
            return 400, _error(400, str(exc))[1], [_JSON, cid_header]
        cookie = headers.get("cookie")
        if cookie is not None and "portway=" in cookie:
            headers["cookie"] = without_cookies(cookie, _CONSOLE_COOKIES)
        meta = {"path_params": params, "query_string": scope.get("query_string", b"").decode("latin-1")}
        request = Request(payload, headers, route.channel, meta)
        stats = self.runtime.stats
        outcome = "failed"
        try:
            response = await self.runtime.invoker.arun(
                route.service, request, cid, timeout_s=route.timeout_s or self.timeout_s, channel_type="http"
            )
            outcome = "succeeded"
        except NotFoundError as exc:
            return (*_error(404, str(exc), cid), [_JSON, cid_header])
        except ServiceFailed as exc:
            return (
                *_error(500, f"service {exc.service!r} failed; see the server log", cid),
                [_JSON, cid_header],
            )
        except ServiceTimedOut as exc:
            message = f"service {exc.service!r} did not answer within {exc.timeout_s:g} s; see the server log"
            return (*_error(504, message, cid), [_JSON, cid_header])
        finally:
            if stats is not None:
                stats.channel("http", route.channel).took(outcome)
        body, content_type = payloads.render(response.payload, response.content_type)
        extra = [
            (b"content-type", content_type.encode()),
            cid_header,
            *((k.encode(), v.encode()) for k, v in response.headers.items()),
        ]
        return response.status, body, extra
