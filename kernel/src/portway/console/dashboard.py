"""The dashboard: services, plugins (failed ones with their reason), deploy and channel errors, and
connections and channels whose type is not loaded (orphans), pool saturation and channels whose
messages failed."""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portway import orphans, stats_report
from portway.console.sessions import ConsoleSession
from portway.console.site import Site


class Dashboard:
    def __init__(self, site: Site) -> None:
        self.site = site

    def routes(self) -> list[Route]:
        return [Route("/", self.site.page(self.show), methods=["GET"])]

    async def show(self, request: Request, session: ConsoleSession) -> Response:
        runtime = self.site.runtime
        found = orphans.find(runtime.plugins, runtime.store)
        typeless = {(o.type, o.name) for o in found if o.kind == "channel"}  # listed once, as orphans
        cluster = None
        if runtime.cluster is not None:
            from portway.servers import cluster_view

            cluster = await to_thread.run_sync(cluster_view, runtime.store.db)
        return self.site.render(
            request,
            "dashboard.html",
            session,
            env=runtime.env,
            services=runtime.registry.all(),
            plugins=sorted(runtime.plugins.statuses.values(), key=lambda s: s.name),
            deploy_failures=sorted(runtime.deployer.failures.values(), key=lambda f: f.path),
            channel_failures=sorted(i for i in runtime.channels.failures.items() if i[0] not in typeless),
            orphans=found,
            pools=stats_report.pools(runtime),
            channel_errors=[c for c in stats_report.failing_channels(runtime) if c["failed"]],
            second_factor=self.site.settings.second_factor,
            cluster=cluster,
        )
