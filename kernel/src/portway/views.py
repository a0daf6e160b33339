"""JSON-able views of kernel state, shared by the CLI, admin API and console."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from portway import choices
from portway.catalog import secret_fields
from portway.declarations import ChannelType, ConnectionType
from portway.plugins import Plugins, distribution_of, missing_requirements
from portway.registry import Deployed


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def plugin_views(plugins: Plugins) -> list[dict[str, Any]]:
    """One dict per plugin: name, version, distribution, status, contributions, and the connection
    types it adds with their actions (name, summary, arguments)."""
    rows = []
    for name, status in sorted(plugins.statuses.items()):
        distribution, version = distribution_of(name)
        owned = sorted(
            t for (label, t), owner in plugins.owners.items() if owner == name and label == "connection"
        )
        missing = missing_requirements(distribution) if status.status == "loaded" else []
        rows.append(
            {
                "name": name,
                "version": version,
                "distribution": distribution,
                "status": status.label,
                "contributes": list(status.contributes),
                "connection_types": [_type_view(plugins.connection_types[t]) for t in owned],
                "missing_packages": missing,
            }
        )
    return rows


def _type_view(declaration: ConnectionType) -> dict[str, Any]:
    return {
        "name": declaration.name,
        "summary": declaration.summary,
        "actions": [
            {"name": a.name, "summary": a.summary, "arguments": argument_views(a.arguments)}
            for a in declaration.actions
        ],
    }


def argument_views(model: type[BaseModel]) -> list[dict[str, Any]]:
    """Each field of an arguments (or settings) model: name, type as text, required, default, help."""
    views = []
    for name, info in model.model_fields.items():
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        views.append(
            {
                "name": name,
                "type": type_text(info.annotation),
                "required": info.is_required(),
                "default": to_jsonable_python(default),
                "description": info.description or "",
            }
        )
    return views


def type_text(annotation: Any) -> str:
    """A field's type as a user reads it: ``str``, ``int``, ``2|3`` for a choice, ``list[str]``."""
    texts = choices.texts_of(annotation)
    if texts:
        return "|".join(texts)
    inner = choices.unwrapped(annotation)
    if isinstance(inner, type) and not getattr(inner, "__args__", None):
        return inner.__name__
    return str(inner).replace("typing.", "")


def connection_type_view(declaration: ConnectionType | ChannelType) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": declaration.name,
        "summary": declaration.summary,
        "settings_schema": declaration.settings.model_json_schema(),
        "secret_fields": sorted(secret_fields(declaration.settings)),
    }
    if isinstance(declaration, ConnectionType):
        view["actions"] = [
            {"name": a.name, "summary": a.summary, "arguments_schema": a.arguments.model_json_schema()}
            for a in declaration.actions
        ]
    return view


def service_view(deployed: Deployed) -> dict[str, Any]:
    return {
        "name": deployed.name,
        "source": deployed.source,
        "version": deployed.version,
        "deployed_at": iso(deployed.deployed_at),
        "async": deployed.is_async,
    }
