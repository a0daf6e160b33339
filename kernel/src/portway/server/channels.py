"""The ASGI handler behind every HTTP channel: route, parse, invoke, render.

Kept as a bare ASGI function: it is the hot path, and a per-request
framework router would only repeat the lookup the route table already did.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from portway.errors import NotFoundError
from portway.invocation import ServiceFailed, new_cid
from portway.runtime import Runtime
from portway.server import payloads
from portway.service import Request

log = structlog.get_logger("portway.http")

Scope = dict[str, Any]


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(
    send: Any, status: int, body: bytes, content_type: str, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
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

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        method, path = scope["method"], scope["path"]
        found = self.runtime.http_routes.match(method, path)
        raw_headers = scope["headers"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}
        cid = headers.get("x-cid") or new_cid()
        cid_header = [(b"x-cid", cid.encode())]
        if found is None:
            allowed = self.runtime.http_routes.allowed_methods(path)
            status, body = (
                _error(405, f"{method} not allowed on {path}; use {', '.join(allowed)}")
                if allowed
                else _error(404, f"no channel serves {method} {path}")
            )
            await _send(send, status, body, "application/json", cid_header)
            return
        route, params = found
        try:
            payload = payloads.parse(headers.get("content-type", ""), await _body(receive))
        except payloads.BadPayload as exc:
            await _send(send, 400, _error(400, str(exc))[1], "application/json", cid_header)
            return
        meta = {"path_params": params, "query_string": scope.get("query_string", b"").decode("latin-1")}
        request = Request(payload, headers, route.channel, meta)
        try:
            response = await self.runtime.invoker.arun(route.service, request, cid)
        except NotFoundError as exc:
            status, body = _error(404, str(exc), cid)
            await _send(send, status, body, "application/json", cid_header)
            return
        except ServiceFailed as exc:
            status, body = _error(500, f"service {exc.service!r} failed; see the server log", cid)
            await _send(send, status, body, "application/json", cid_header)
            return
        body, content_type = payloads.render(response.payload, response.content_type)
        extra = [*cid_header, *((k.encode(), v.encode()) for k, v in response.headers.items())]
        await _send(send, response.status, body, content_type, extra)
