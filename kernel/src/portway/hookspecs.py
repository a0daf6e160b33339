"""The plugin contract: one function per extension point.

Every hook runs once, at start-up (or when the CLI is built), never per
request. Hooks return typed declarations from :mod:`portway.declarations`;
the kernel decides what to do with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from portway.declarations import AuthFactor, ChannelType, ConnectionType

hookspec = pluggy.HookspecMarker("portway")
hookimpl = pluggy.HookimplMarker("portway")


@hookspec
def portway_connection_types() -> list[ConnectionType]:
    """Return the outgoing connection types this plugin adds."""
    raise NotImplementedError


@hookspec
def portway_channel_types() -> list[ChannelType]:
    """Return the incoming channel types this plugin adds."""
    raise NotImplementedError


@hookspec
def portway_auth_factors() -> list[AuthFactor]:
    """Return second factors for the admin console login."""
    raise NotImplementedError


@hookspec
def portway_cli(cli: click.Group) -> None:
    """Add click commands under ``portway``."""


@hookspec
def portway_startup(server: Any) -> None:
    """Run once when the server has started, before it takes requests."""


@hookspec
def portway_shutdown(server: Any) -> None:
    """Run once when the server stops, after in-flight work has drained."""
