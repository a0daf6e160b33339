"""Request bodies to service payloads and service payloads to response bodies."""

from __future__ import annotations

import json
from typing import Any

from portway.errors import PortwayError


class BadPayload(PortwayError):
    """The request body does not match its content type."""


class TooDeep(BadPayload):
    """The request body nests JSON deeper than the limit."""


DEFAULT_MAX_DEPTH = 64  # [server] max_json_depth


def parse(content_type: str, body: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """JSON to Python objects, ``text/*`` to ``str``, anything else ``bytes``; empty is ``None``."""
    if not body:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return load_json(body, max_depth)
    if kind.startswith("text/") or kind in ("application/x-www-form-urlencoded", "application/xml"):
        try:
            return body.decode(_charset(content_type))
        except (UnicodeDecodeError, LookupError) as exc:
            raise BadPayload(f"request body cannot be decoded as text: {exc}") from None
    return body


def load_json(body: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """``json.loads``, refusing invalid JSON and nesting deeper than ``max_depth`` with BadPayload."""
    try:
        value = json.loads(body)
    except RecursionError:  # the C decoder's own guard, far past any sane limit
        raise TooDeep(_too_deep(max_depth)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"request body is not valid JSON: {exc}") from None
    # Fewer brackets than the limit cannot nest deeper than it: two C-speed
    # counts spare the usual small body the walk below.
    if body.count(b"[") + body.count(b"{") > max_depth and _deeper_than(value, max_depth):
        raise TooDeep(_too_deep(max_depth))
    return value


def _too_deep(max_depth: int) -> str:
    return f"request body nests JSON deeper than {max_depth} levels ([server] max_json_depth)"


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` levels (no recursion)."""
    # json.loads makes exactly dict and list: exact type checks are the cheap ones.
    stack = [(value, 1)] if type(value) in _CONTAINERS else []
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > limit:
            return True
        inner = depth + 1
        for child in item.values() if type(item) is dict else item:
            if type(child) in _CONTAINERS:
                push((child, inner))
    return False


_CONTAINERS = (dict, list)


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
