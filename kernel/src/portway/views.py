"""JSON-able views of kernel state, shared by the CLI, admin API and console."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portway.catalog import secret_fields
from portway.declarations import ChannelType, ConnectionType
from portway.plugins import Plugins, distribution_of, missing_requirements
from portway.registry import Deployed


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def plugin_views(plugins: Plugins) -> list[dict[str, Any]]:
    """One dict per plugin: name, version, distribution, status, contributions."""
    rows = []
    for name, status in sorted(plugins.statuses.items()):
        distribution, version = distribution_of(name)
        missing = missing_requirements(distribution) if status.status == "loaded" else []
        rows.append(
            {
                "name": name,
                "version": version,
                "distribution": distribution,
                "status": status.label,
                "contributes": list(status.contributes),
                "missing_packages": missing,
            }
        )
    return rows


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
