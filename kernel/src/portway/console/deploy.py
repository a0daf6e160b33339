"""The Deploy page: the cluster's servers, the published files, and an upload form that publishes.

Uploads go through :func:`portway.publishing.publish` like ``portway deploy
push``: validated on trial first, refused whole with each file's line and
error. On a SQLite store the page says that publishing needs PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portway.console.sessions import ConsoleSession
from portway.console.site import Site
from portway.publishing import PublishRefused
from portway.servers import cluster_view


class DeployPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    def routes(self) -> list[Route]:
        page = self.site.page
        return [
            Route("/deploy", page(self.show), methods=["GET"]),
            Route("/deploy", page(self.upload), methods=["POST"]),
        ]

    async def show(
        self, request: Request, session: ConsoleSession, status: int = 200, **extra: Any
    ) -> Response:
        runtime = self.site.runtime
        cluster = runtime.cluster
        view: dict[str, Any] | None = None
        files: list[Any] = []
        if cluster is not None:
            view = await to_thread.run_sync(cluster_view, runtime.store.db)
            files = list((await to_thread.run_sync(cluster.codes.manifest))[1].values())
        context: dict[str, Any] = {"report": None, "refused": [], "problem": "", "folder": ""}
        context.update(extra)
        return self.site.render(
            request,
            "deploy.html",
            session,
            status,
            cluster=view,
            files=files,
            this=runtime.server_id,
            **context,
        )

    async def upload(self, request: Request, session: ConsoleSession) -> Response:
        cluster = self.site.runtime.cluster
        if cluster is None:
            return await self.show(request, session, 400, problem="publishing needs a PostgreSQL store")
        form = request.state.form
        folder = str(form.get("folder", "")).strip().strip("/")
        files: dict[str, bytes] = {}
        for upload in form.getlist("files"):
            if isinstance(upload, UploadFile) and upload.filename:
                name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
                files[f"{folder}/{name}" if folder else name] = await upload.read()
        if not files:
            return await self.show(
                request, session, 400, problem="choose one or more .py files", folder=folder
            )
        who = f"console {session.user}"
        try:
            report = await to_thread.run_sync(lambda: cluster.publish(files, publisher=who))
        except PublishRefused as exc:
            return await self.show(request, session, 400, refused=exc.errors, folder=folder)
        return await self.show(request, session, report=report, folder=folder)
