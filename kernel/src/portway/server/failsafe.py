"""The last word on a request that failed: JSON, a cid, one log line, never a traceback in a response.

- An exception nobody handled is logged once (a plain traceback without
  local variables, with the method, path and a cid) and answered
  ``500 {"error", "cid"}``: from a channel, the admin API or the console.
- A request still running when ``[server] drain_s`` is over (uvicorn then
  cancels it) is answered ``503`` with ``Retry-After`` and
  ``Connection: close``; a sync service it was waiting for is abandoned.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portway.invocation import new_cid
from portway.server.limits import BodyTooLarge, Headers, send_answer, too_large

log = structlog.get_logger("portway.server")

INTERNAL = "internal error; the server log has the details under this cid"
SHUTTING_DOWN = "the server is shutting down; retry shortly"
RETRY_AFTER_S = 5
_LOGGED = "portway.failure_cid"  # scope key: the failure was logged already, under this cid


def report(scope: MutableMapping[str, Any], exc: BaseException) -> str:
    """Log ``exc`` for the request of ``scope`` (once); return the cid it was logged under."""
    logged = scope.get(_LOGGED)
    if logged:
        return str(logged)
    cid = new_cid()
    scope[_LOGGED] = cid
    log.error(
        "request_failed",
        cid=cid,
        method=scope.get("method"),
        path=scope.get("path"),
        error=type(exc).__name__,
        exc_info=exc,
    )
    return cid


def internal_error(cid: str) -> tuple[int, bytes, Headers]:
    body = json.dumps({"error": INTERNAL, "cid": cid}).encode()
    return 500, body, [(b"content-type", b"application/json")]


def shutting_down(scope: dict[str, Any]) -> tuple[int, bytes, Headers]:
    log.warning(
        "request_cancelled", method=scope.get("method"), path=scope.get("path"), reason="drain_s over"
    )
    body = json.dumps({"error": SHUTTING_DOWN}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"retry-after", str(RETRY_AFTER_S).encode()),
        (b"connection", b"close"),
    ]
    return 503, body, headers


async def _internal_error_response(request: Request, exc: Exception) -> Response:
    status, body, headers = internal_error(report(request.scope, exc))
    return Response(body, status, headers={k.decode(): v.decode() for k, v in headers})


async def _too_large_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return JSONResponse({"error": str(exc), "limit": exc.limit}, 413, headers={"connection": "close"})


def exception_handlers() -> dict[Any, Any]:
    """``exception_handlers=`` for every Starlette app of the server (admin API, console)."""
    return {BodyTooLarge: _too_large_response, Exception: _internal_error_response}


class Failsafe:
    """Outermost ASGI layer of the admin API and console; see the module docstring."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError:
            # Swallowed on purpose: the task ends here either way, and a
            # re-raise would only add a traceback per request to the log.
            answer = shutting_down(scope)
            if not started:
                await send_answer(send, *answer)
        except BodyTooLarge as exc:  # raised outside the app's own exception handling
            if not started:
                await send_answer(send, *too_large(exc))
        except Exception as exc:  # Starlette answered and re-raised, or it never got that far
            cid = report(scope, exc)
            if not started:
                await send_answer(send, *internal_error(cid))
