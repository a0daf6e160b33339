"""OpenAPI 3.1 document of the admin API, with each installed type's settings schema.

Each action of each connection type also gets a path of its own
(``/admin/api/connections/ibm_mq/{name}/actions/browse``) whose request
body is the action's arguments schema.
"""

from __future__ import annotations

from typing import Any

from portway.declarations import ChannelType, ConnectionType
from portway.runtime import Runtime

_ERROR = {"$ref": "#/components/schemas/Error"}

# (method, path, summary, request schema ref or None, success status)
_ENDPOINTS: list[tuple[str, str, str, str | None, int]] = [
    ("get", "/admin/api/health", "Server health (no API key needed)", None, 200),
    (
        "get",
        "/admin/api/health/ready",
        "Readiness: 503 while booting or the store is unreachable; failing channels (no key)",
        None,
        200,
    ),
    ("get", "/admin/api/stats", "Per-service calls, errors, p50/p95/p99 (5 min, 1 h), pools", None, 200),
    ("get", "/admin/api/plugins", "Installed plugins and their status", None, 200),
    ("get", "/admin/api/connection-types", "Connection types with settings schemas", None, 200),
    ("get", "/admin/api/connections", "List connections (optional ?type=)", None, 200),
    ("post", "/admin/api/connections", "Create a connection", "ConnectionCreate", 201),
    ("get", "/admin/api/connections/{type}/{name}", "Show a connection (secrets masked)", None, 200),
    ("patch", "/admin/api/connections/{type}/{name}", "Change some settings", "ItemUpdate", 200),
    ("delete", "/admin/api/connections/{type}/{name}", "Delete a connection", None, 204),
    ("post", "/admin/api/connections/{type}/{name}/ping", "Ping: time in ms or the reason", None, 200),
    (
        "post",
        "/admin/api/connections/{type}/{name}/actions/{action}",
        "Run a type's action",
        "ActionArguments",
        200,
    ),
    ("get", "/admin/api/channels", "List channels (optional ?type=)", None, 200),
    ("post", "/admin/api/channels", "Create a channel", "ChannelCreate", 201),
    ("get", "/admin/api/channels/{type}/{name}", "Show a channel", None, 200),
    ("delete", "/admin/api/channels/{type}/{name}", "Delete a channel", None, 204),
    (
        "get",
        "/admin/api/channels/{type}/{name}/status",
        "A channel on this server: running, errors; pickup channels' last poll, counts, lease holder",
        None,
        200,
    ),
    ("get", "/admin/api/services", "Deployed services", None, 200),
    ("post", "/admin/api/services/{name}/invoke", "Invoke a service with a JSON payload", None, 200),
    ("get", "/admin/api/deploy", "Deployed services and failed files", None, 200),
    ("post", "/admin/api/deploy/rollback/{name}", "Go back to a service's previous version", None, 200),
    ("get", "/admin/api/deploy/files", "Service files published to the cluster's store", None, 200),
    ("post", "/admin/api/deploy/files", "Publish service files to every server (validated first)", None, 200),
    ("get", "/admin/api/cluster", "Every server on the store, its code revision and flags", None, 200),
    ("post", "/admin/api/reload", "Apply config changes now", None, 200),
]


def document(runtime: Runtime) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, summary, body, status in _ENDPOINTS:
        paths.setdefault(path, {})[method] = _operation(path, summary, body, status)
    schemas = _schemas(runtime)
    for path, operation, schema_name, schema in _action_paths(runtime):
        paths[path] = {"post": operation}
        schemas[schema_name] = schema
        schemas.update(schema.pop("$defs", {}))
    return {
        "openapi": "3.1.0",
        "info": {"title": "portway admin API", "version": _version()},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "The key in ENV/admin.key"},
            },
        },
    }


def _operation(path: str, summary: str, body: str | None, status: int) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(status): {"description": "OK"},
            "400": {"description": "Invalid input", "content": {"application/json": {"schema": _ERROR}}},
            "401": {"description": "Missing or wrong API key"},
            "404": {"description": "Not found", "content": {"application/json": {"schema": _ERROR}}},
            "409": {"description": "Exists already", "content": {"application/json": {"schema": _ERROR}}},
        },
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in ("type", "name", "action")
            if "{" + p + "}" in path
        ],
    }
    if not path.endswith(("/health", "/health/ready")):
        operation["security"] = [{"apiKey": []}]
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return operation


def _action_paths(runtime: Runtime) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """``(path, operation, schema name, arguments schema)`` for every action of every connection type."""
    found = []
    for type_name in sorted(runtime.plugins.connection_types):
        declaration = runtime.plugins.connection_types[type_name]
        for action in declaration.actions:
            path = f"/admin/api/connections/{type_name}/{{name}}/actions/{action.name}"
            schema_name = f"ActionArguments_{type_name}_{action.name}"
            operation = _operation(path, f"{type_name}: {action.summary or action.name}", schema_name, 200)
            operation["requestBody"]["required"] = bool(action.arguments.model_json_schema().get("required"))
            schema = action.arguments.model_json_schema(ref_template="#/components/schemas/{model}")
            found.append((path, operation, schema_name, schema))
    return found


def _schemas(runtime: Runtime) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
            "required": ["error"],
        },
        "ItemUpdate": {
            "type": "object",
            "properties": {"settings": {"type": "object"}, "pool": {"type": "object"}},
        },
        "ActionArguments": {
            "type": "object",
            "description": "The action's arguments; each action's own path has their schema",
        },
    }
    kinds: list[tuple[str, dict[str, ConnectionType] | dict[str, ChannelType]]] = [
        ("Connection", runtime.plugins.connection_types),
        ("Channel", runtime.plugins.channel_types),
    ]
    for kind, types in kinds:
        variants = []
        for name in sorted(types):
            declaration: ConnectionType | ChannelType = types[name]
            key = f"{kind}Settings_{name}"
            schemas[key] = declaration.settings.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schemas[key].pop("$defs", {}))
            variants.append(
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": name},
                        "name": {"type": "string"},
                        "settings": {"$ref": f"#/components/schemas/{key}"},
                        **({"pool": {"type": "object"}} if kind == "Connection" else {}),
                    },
                    "required": ["type", "name", "settings"],
                }
            )
        schemas[f"{kind}Create"] = {"oneOf": variants} if variants else {"type": "object"}
    return schemas


def _version() -> str:
    from importlib.metadata import version

    return version("portway")
