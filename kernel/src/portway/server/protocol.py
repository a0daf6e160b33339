"""uvicorn's httptools protocol with a read timeout: half-sent requests do not hold connections open.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but waits
forever for a client that connects and sends nothing, sends half its
headers, or stops in the middle of its body. Here a connection is closed
when its request's headers are not complete ``read_timeout_s`` after the
request began (or the connection opened), or when its body pauses that long
while the service is waiting to read it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_IDLE, _HEADERS, _BODY = 0, 1, 2


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """See the module docstring; ``read_timeout_s`` is set by :func:`timed_protocol`."""

    read_timeout_s = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = _IDLE
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._phase = _HEADERS
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._phase == _BODY:  # the body moved: its pause starts again
            self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = _HEADERS
        if self._read_timer is None:  # a deadline from connection_made still stands
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._phase = _BODY
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._phase = _IDLE
        super().on_message_complete()

    def _arm(self) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(self.read_timeout_s, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing() or self._phase == _IDLE:
            return
        if self._phase == _BODY and self.flow.read_paused:
            self._arm()  # the service is not reading yet: the client is not the one stalling
            return
        self.transport.close()


def timed_protocol(read_timeout_s: float) -> type[TimedHttpToolsProtocol]:
    """The protocol class for uvicorn's ``http=`` with this read timeout."""
    return type("TimedHttpToolsProtocol", (TimedHttpToolsProtocol,), {"read_timeout_s": read_timeout_s})
