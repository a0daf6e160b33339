"""A connection type's declared actions: found by name, their arguments checked, run on a pooled client.

The admin API, the console, ``portway conn action`` and plugins' own
commands (through :mod:`portway.plugin_cli`) all run actions here, so an
unknown argument is refused alike everywhere and every result becomes
JSON the same way: ``bytes`` decoded as UTF-8, anything JSON cannot hold
as its ``str()``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from portway.declarations import Action, ConnectionType
from portway.errors import ArgumentError, ConnectionFailed, NotFoundError, PortwayError
from portway.pool import describe

if TYPE_CHECKING:
    from portway.connections import Connections


def find(declaration: ConnectionType, name: str) -> Action:
    """The action ``name`` of a connection type; :class:`NotFoundError` lists the ones it has."""
    for action in declaration.actions:
        if action.name == name:
            return action
    names = ", ".join(a.name for a in declaration.actions) or "none"
    raise NotFoundError(f"{declaration.name} action", name, f"available: {names}")


def label(declaration: ConnectionType, action: Action) -> str:
    """How errors name an action: ``echo action 'echo'``."""
    return f"{declaration.name} action {action.name!r}"


def arguments(declaration: ConnectionType, action: Action, given: Mapping[str, Any] | None) -> BaseModel:
    """The action's arguments model built from ``given``; an unknown or bad one is refused by name."""
    where = label(declaration, action)
    values = dict(given or {})
    model = action.arguments
    known = {info.alias or key for key, info in model.model_fields.items()} | set(model.model_fields)
    unknown = sorted(set(values) - known)
    if unknown:
        names = ", ".join(model.model_fields) or "none"
        raise ArgumentError(where, unknown[0], f"unknown argument; known: {names}")
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(arguments)"
        message = "required; give a value" if first["type"] == "missing" else first["msg"]
        raise ArgumentError(where, field, message) from None


def run(
    connections: Connections,
    type_name: str,
    name: str,
    action_name: str,
    given: Mapping[str, Any] | None = None,
) -> Any:
    """Run an action on a pooled client of connection ``name``; return its result as JSON-able data.

    A failure of the plugin's code becomes :class:`ConnectionFailed` with its
    reason; a client that ``is_broken`` says the failure broke is discarded.
    """
    declaration = connections.catalog.plugins.connection_type(type_name)
    action = find(declaration, action_name)
    checked = arguments(declaration, action, given)
    pool = connections.pool(type_name, name)
    client = pool.borrow()
    broken = False
    try:
        return as_json(action.run(client, checked))
    except Exception as exc:
        broken = _broke(declaration, exc)
        if isinstance(exc, PortwayError):
            raise
        raise ConnectionFailed(type_name, name, describe(exc)) from exc
    finally:
        pool.give_back(client, broken=broken)


def as_json(value: Any) -> Any:
    """A result as JSON data: ``bytes`` decoded (UTF-8, bad bytes replaced), the unknown as ``str()``."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.loads(json.dumps(value, default=str))


def _broke(declaration: ConnectionType, exc: BaseException) -> bool:
    try:
        return bool(declaration.is_broken(exc))
    except Exception:  # a faulty check must not keep a client that may be broken
        return True
