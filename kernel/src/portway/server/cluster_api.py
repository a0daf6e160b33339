"""Admin API for the cluster: publish service files, list them, see every server.

``POST /admin/api/deploy/files`` takes ``{"files": [{"path": "billing/invoice.py",
"content": "..."}], "delete": ["old.py"], "delete_missing": false}``; paths
are relative to the pickup root, content is the file's UTF-8 text. It
answers what changed, or 400 with ``files`` (path, line, error) when a file
is refused, and then nothing was published. On a SQLite store it is a 400
saying publishing needs PostgreSQL.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portway.cluster import Cluster
from portway.codestore import NEEDS_POSTGRESQL
from portway.errors import ConfigError, SettingError
from portway.runtime import Runtime
from portway.servers import cluster_view


class ClusterApi:
    """Handlers for ``/deploy/files`` and ``/cluster``; ``json_body`` parses with the API's limits."""

    def __init__(self, runtime: Runtime, json_body: Any) -> None:
        self.rt = runtime
        self._json = json_body

    async def publish(self, request: Request) -> Response:
        cluster = self._cluster()
        body = await self._json(request)
        files = _files(body.get("files", []))
        delete = _paths(body.get("delete", []), "delete")
        delete_missing = body.get("delete_missing", False)
        if not isinstance(delete_missing, bool):
            raise SettingError("request", "delete_missing", "must be true or false")
        who = request.client.host if request.client else "?"
        report = await to_thread.run_sync(  # a refusal is a 400 naming each file (admin_api)
            lambda: cluster.publish(
                files, publisher=f"admin-api {who}", delete=delete, delete_missing=delete_missing
            )
        )
        return JSONResponse(report.as_json())

    async def published(self, request: Request) -> Response:
        cluster = self._cluster()
        revision, manifest = await to_thread.run_sync(cluster.codes.manifest)
        return JSONResponse({"code_revision": revision, "files": [asdict(f) for f in manifest.values()]})

    async def servers(self, request: Request) -> Response:
        if self.rt.cluster is None:
            return JSONResponse({"store": "sqlite", "code_revision": None, "servers": []})
        view = await to_thread.run_sync(cluster_view, self.rt.store.db)
        return JSONResponse({"store": "postgresql", "this_server": self.rt.server_id, **view})

    def _cluster(self) -> Cluster:
        if self.rt.cluster is None:
            raise ConfigError("[store] url", NEEDS_POSTGRESQL)
        return self.rt.cluster


def _files(raw: Any) -> dict[str, bytes]:
    if not isinstance(raw, list):
        raise SettingError("request", "files", 'a list of {"path": ..., "content": ...}')
    files: dict[str, bytes] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or set(entry) != {"path", "content"}:
            raise SettingError("request", f"files[{index}]", 'give exactly {"path": ..., "content": ...}')
        path, content = entry["path"], entry["content"]
        if not isinstance(path, str) or not isinstance(content, str):
            raise SettingError("request", f"files[{index}]", "path and content are strings (UTF-8 text)")
        if path in files:
            raise SettingError("request", f"files[{index}].path", f"{path!r} is given twice")
        files[path] = content.encode()
    return files


def _paths(raw: Any, field: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise SettingError("request", field, "a list of relative paths")
    return tuple(raw)
