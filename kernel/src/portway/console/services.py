"""Services: the deployed list, and a form that invokes one and shows its response."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portway.console.sessions import ConsoleSession
from portway.console.site import Site
from portway.errors import NotFoundError, PortwayError
from portway.server import payloads
from portway.service import Request as ServiceRequest


def _payload(text: str, max_depth: int) -> Any:
    """JSON when it parses, else the text as typed; empty is ``None``.

    JSON nested deeper than ``max_depth`` is refused (TooDeep), as on a channel.
    """
    if not text.strip():
        return None
    try:
        return payloads.load_json(text.encode(), max_depth)
    except payloads.TooDeep:
        raise
    except payloads.BadPayload:
        return text


class ServicePages:
    def __init__(self, site: Site) -> None:
        self.site = site

    def routes(self) -> list[Route]:
        page = self.site.page
        return [
            Route("/services", page(self.index), methods=["GET"]),
            Route("/services/{name}", page(self.show), methods=["GET"]),
            Route("/services/{name}", page(self.invoke), methods=["POST"]),
        ]

    async def index(self, request: Request, session: ConsoleSession) -> Response:
        services = self.site.runtime.registry.all()
        return self.site.render(request, "services.html", session, services=services)

    async def show(self, request: Request, session: ConsoleSession, **extra: Any) -> Response:
        name = request.path_params["name"]
        try:
            deployed = self.site.runtime.registry.get(name)
        except NotFoundError as exc:
            return self.site.render(request, "error.html", session, 404, title="Not found", message=str(exc))
        context: dict[str, Any] = {"payload": "", "response": None, "failure": "", "status": 200}
        context.update(extra)
        status = context.pop("status")
        doc = (deployed.cls.__doc__ or "").strip()
        return self.site.render(
            request, "service.html", session, status, service=deployed, doc=doc, **context
        )

    async def invoke(self, request: Request, session: ConsoleSession) -> Response:
        name = request.path_params["name"]
        text = str(request.state.form.get("payload", ""))
        try:
            # arun puts a sync service on a worker thread: the event loop never blocks.
            server = self.site.runtime.env.settings.server
            response = await self.site.runtime.invoker.arun(
                name,
                ServiceRequest(_payload(text, server.max_json_depth), {}, "console"),
                timeout_s=server.service_timeout_s,
            )
        except PortwayError as exc:
            return await self.show(request, session, payload=text, failure=str(exc), status=502)
        shown = response.payload
        if isinstance(shown, bytes):
            shown = shown.decode("utf-8", "replace")
        rendered = shown if isinstance(shown, str) else json.dumps(shown, indent=2, default=str)
        return await self.show(
            request, session, payload=text, response={"status": response.status, "payload": rendered}
        )
