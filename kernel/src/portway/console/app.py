"""The console as a Starlette app; the server mounts it at ``/admin``."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from portway.console.account import AccountPages
from portway.console.auth import Auth
from portway.console.connection import ConnectionPages
from portway.console.dashboard import Dashboard
from portway.console.deploy import DeployPages
from portway.console.items import ItemPages
from portway.console.security import SecurityHeaders
from portway.console.services import ServicePages
from portway.console.site import Site
from portway.console.statistics import StatisticsPages
from portway.runtime import Runtime
from portway.server.failsafe import exception_handlers

STATIC = Path(__file__).parent / "static"


def build_console(runtime: Runtime) -> Starlette:
    """The web console for ``runtime``: login, dashboard, connections, channels, services."""
    site = Site(runtime)
    routes: list[BaseRoute] = [Mount("/static", app=StaticFiles(directory=STATIC), name="static")]
    # Order matters: /connections/{type}/new must win over /connections/{type}/{name}.
    for pages in (
        Auth(site),
        Dashboard(site),
        ItemPages(site, "connection"),
        ConnectionPages(site),
        ItemPages(site, "channel"),
        ServicePages(site),
        DeployPages(site),
        StatisticsPages(site),
        AccountPages(site),
    ):
        routes.extend(pages.routes())
    # The server's handlers: a console page that raises answers JSON with a cid, as the API does.
    app = Starlette(routes=routes, exception_handlers=exception_handlers())
    app.add_middleware(SecurityHeaders)
    app.state.site = site
    return app
