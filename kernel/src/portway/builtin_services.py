"""Services every server has."""

from __future__ import annotations

from typing import Any

from portway.redaction import redact_headers
from portway.service import Service


class Ping(Service):
    """Answers ``{"pong": true}``: proves the server and invocation path work."""

    name = "portway.ping"

    def handle(self) -> None:
        self.response.payload = {"pong": True, "cid": self.cid}


class LogMessage(Service):
    """Logs the payload and metadata of whatever invokes it (handy as a channel's service).

    Credential headers (``Authorization``, ``Cookie``, ``X-API-Key``, ...) are logged masked.
    """

    name = "portway.log-message"

    def handle(self) -> None:
        payload: Any = self.request.payload
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8", "replace")
        self.logger.info(
            "message_received",
            channel=self.request.channel,
            payload=payload,
            headers=redact_headers(self.request.headers),
            meta={k: _jsonable(v) for k, v in self.request.meta.items()},
        )
        self.response.payload = {"logged": True, "cid": self.cid}


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


SERVICES: tuple[type[Service], ...] = (Ping, LogMessage)
