"""Request bodies to service payloads and service payloads to response bodies."""

from __future__ import annotations

import json
from typing import Any

from portway.errors import PortwayError


class BadPayload(PortwayError):
    """The request body does not match its content type."""


def parse(content_type: str, body: bytes) -> Any:
    """JSON to Python objects, ``text/*`` to ``str``, anything else ``bytes``; empty is ``None``."""
    if not body:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadPayload(f"request body is not valid JSON: {exc}") from None
    if kind.startswith("text/") or kind in ("application/x-www-form-urlencoded", "application/xml"):
        try:
            return body.decode(_charset(content_type))
        except (UnicodeDecodeError, LookupError) as exc:
            raise BadPayload(f"request body cannot be decoded as text: {exc}") from None
    return body


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


def render(payload: Any, content_type: str | None) -> tuple[bytes, str]:
    """Body bytes and content type for a service's ``response.payload``."""
    if payload is None:
        return b"", content_type or "text/plain; charset=utf-8"
    if isinstance(payload, bytes):
        return payload, content_type or "application/octet-stream"
    if isinstance(payload, str):
        return payload.encode(), content_type or "text/plain; charset=utf-8"
    return json.dumps(payload, default=str).encode(), content_type or "application/json"
