"""``portway channel``: incoming channels (HTTP, IBM MQ queues, ...)."""

from __future__ import annotations

import click

from portway.cli.items import add_item_commands, writer
from portway.cli.typed import TypeGroup


@click.group()
def channel() -> None:
    """Incoming channels: what invokes which service."""


@channel.group(cls=TypeGroup, kind="channel", apply=writer("channel", "create"), all_optional=False)
@click.argument("env", type=click.Path(file_okay=False))
def create(env: str) -> None:
    """Create a channel: portway channel create ENV TYPE NAME --setting ..."""


add_item_commands(channel, "channel")
