"""The kernel's own plugin: the ``http`` and ``file`` (folder pickup) channel types, registered like any."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from portway.declarations import ChannelHost, ChannelType, Runner
from portway.hookspecs import hookimpl
from portway.httproutes import HttpRoutes
from portway.pickup.settings import FileChannelSettings

RESERVED = ("/admin", "/openapi.json")


class HttpChannelSettings(BaseModel):
    """An HTTP channel: requests to ``method path`` invoke ``service``."""

    model_config = {"extra": "forbid"}

    path: str = Field(description="URL path, e.g. /billing/invoice or /orders/{id}")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field("POST", description="HTTP method")
    service: str = Field(description="Name of the service to invoke")
    max_body_bytes: int | None = Field(
        None, ge=1, description="Largest request body; empty: the server's [server] max_body_bytes"
    )
    timeout_s: float | None = Field(
        None, gt=0, description="Longest the service may take (504 after); empty: [server] service_timeout_s"
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        if any(value == r or value.startswith(r + "/") for r in RESERVED):
            raise ValueError(f"{value} is reserved for the admin API and console")
        return value


class HttpRunner:
    def __init__(self, routes: HttpRoutes, channel: str) -> None:
        self.routes = routes
        self.channel = channel

    def stop(self, drain_s: float) -> None:
        # The server drains in-flight HTTP requests itself; unrouting is instant.
        self.routes.remove(self.channel)


def start_http(name: str, settings: HttpChannelSettings, host: ChannelHost) -> HttpRunner:
    routes: HttpRoutes = host.http_routes  # type: ignore[attr-defined]
    routes.add(
        name,
        settings.method,
        settings.path,
        settings.service,
        max_body_bytes=settings.max_body_bytes,
        timeout_s=settings.timeout_s,
    )
    return HttpRunner(routes, name)


def start_file(name: str, settings: FileChannelSettings, host: ChannelHost) -> Runner:
    from portway.pickup.local import start_file as start

    return start(name, settings, host)


@hookimpl
def portway_channel_types() -> list[ChannelType]:
    return [
        ChannelType(
            name="http",
            settings=HttpChannelSettings,
            start=start_http,
            summary="Invoke a service for HTTP requests to a path",
        ),
        ChannelType(
            name="file",
            settings=FileChannelSettings,
            start=start_file,
            summary="Invoke a service once for each complete new file in a local folder",
        ),
    ]
