"""Request body limits, enforced while the body arrives (never after buffering it).

A declared ``Content-Length`` over the limit is refused before a byte of the
body is read; a chunked body is counted as it comes and refused as soon as
it passes the limit. The answer is ``413`` naming the limit and the setting,
with ``Connection: close`` so the rest of an oversized body is not read.
"""

from __future__ import annotations

import json
from typing import Any

from portway.errors import PortwayError

Headers = list[tuple[bytes, bytes]]


class BodyTooLarge(PortwayError):
    """A request body is (or is declared) larger than its limit."""

    def __init__(self, limit: int, setting: str) -> None:
        self.limit = limit
        self.setting = setting
        super().__init__(f"request body is larger than {limit} bytes, the limit set by {setting}")


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


def declared_length(headers: Headers) -> int | None:
    """The request's ``Content-Length``, or ``None`` (none, or not a number)."""
    for key, value in headers:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def check_declared(headers: Headers, limit: int, setting: str) -> None:
    declared = declared_length(headers)
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit, setting)


async def read_body(receive: Any, limit: int, setting: str) -> bytes:
    """The whole request body, refused with :class:`BodyTooLarge` as soon as it passes ``limit``."""
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body: bytes = message.get("body", b"")
    if len(body) > limit:
        raise BodyTooLarge(limit, setting)
    if not message.get("more_body"):  # the usual case: one message holds the whole body
        return body
    chunks, size = [body], len(body)
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit, setting)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(exc: BodyTooLarge) -> tuple[int, bytes, Headers]:
    """Status, JSON body and headers of the answer to an oversized body."""
    body = json.dumps({"error": str(exc), "limit": exc.limit}).encode()
    return 413, body, [(b"content-type", b"application/json"), (b"connection", b"close")]


class BodyLimit:
    """ASGI middleware: the same limit for every request to the wrapped app (admin API, console)."""

    def __init__(self, app: Any, limit: int, setting: str) -> None:
        self.app = app
        self.limit = limit
        self.setting = setting

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_declared(scope["headers"], self.limit, self.setting)
        except BodyTooLarge as exc:
            await send_answer(send, *too_large(exc))
            return
        size = 0

        async def counted() -> Any:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > self.limit:  # the app's exception handler answers 413
                raise BodyTooLarge(self.limit, self.setting)
            return message

        await self.app(scope, counted, send)


async def send_answer(send: Any, status: int, body: bytes, headers: Headers) -> None:
    """Send a whole response: status, headers (with Content-Length) and body."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
