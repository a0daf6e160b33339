"""Redirects of the admin API and console never name a host: the Host header is the client's to choose.

Starlette builds absolute ``Location`` URLs from the request's Host header
(its trailing-slash redirect, ``request.url_for``), so ``Host: evil.example``
came back as ``Location: http://evil.example/admin/``. Every ``Location``
of these apps is made a path on this server instead.
"""

from __future__ import annotations

from typing import Any


def relative(location: bytes) -> bytes:
    """``http://any.host/a/b?c`` -> ``/a/b?c``; a path stays as it is."""
    for scheme in (b"http://", b"https://", b"//"):
        if location.startswith(scheme):
            rest = location[len(scheme) :]
            slash = rest.find(b"/")
            location = rest[slash:] if slash >= 0 else b"/"
            break
    # "//host/..." would still leave the server (a scheme-relative URL).
    return b"/" + location.lstrip(b"/") if location.startswith(b"/") else location


class RelativeRedirects:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_relative(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(k.lower() == b"location" for k, _ in headers):
                    fixed = [(k, relative(v) if k.lower() == b"location" else v) for k, v in headers]
                    message = {**message, "headers": fixed}
            await send(message)

        await self.app(scope, receive, send_relative)
