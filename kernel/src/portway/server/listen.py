"""uvicorn as the server runs it: bounded waits, no forwarded headers unless trusted, a bounded drain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import uvicorn

from portway.environment import Environment
from portway.server.protocol import timed_protocol


def uvicorn_config(env: Environment, app: Any) -> uvicorn.Config:
    """The uvicorn settings of ``env``'s server (``[server]`` in portway.toml)."""
    server = env.settings.server
    trusted = server.trusted_proxies
    return uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        ws="none",  # no channel speaks WebSocket: not importing its protocol saves start-up time
        http=timed_protocol(server.read_timeout_s),
        timeout_keep_alive=server.keep_alive_s,
        # uvicorn believes X-Forwarded-* from 127.0.0.1 by default: anyone on
        # the machine could then pick the client address the lockout counts.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=list(trusted) if trusted else None,
        # uvicorn passes it to asyncio.wait_for, which takes any float; 0 means "do not wait".
        timeout_graceful_shutdown=cast(int, server.drain_s),
    )


class ReadyServer(uvicorn.Server):
    """uvicorn's server, calling ``on_ready`` once it has started serving."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._on_ready()
