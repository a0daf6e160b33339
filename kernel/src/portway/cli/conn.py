"""``portway conn``: outgoing connections, with options from each type's settings model."""

from __future__ import annotations

import click

from portway.cli.actions import ActionGroup
from portway.cli.items import add_item_commands, writer
from portway.cli.typed import TypeGroup


@click.group()
def conn() -> None:
    """Outgoing connections (SFTP, FTP, IBM MQ, ... as installed)."""


@conn.group(cls=TypeGroup, kind="connection", apply=writer("connection", "create"), all_optional=False)
@click.argument("env", type=click.Path(file_okay=False))
def create(env: str) -> None:
    """Create a connection: portway conn create ENV TYPE NAME --setting ..."""


@conn.group(cls=TypeGroup, kind="connection", apply=writer("connection", "update"), all_optional=True)
@click.argument("env", type=click.Path(file_okay=False))
def update(env: str) -> None:
    """Change some settings: portway conn update ENV TYPE NAME --setting ..."""


add_item_commands(conn, "connection")


@conn.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
def ping(env: str, type_name: str, name: str) -> None:
    """Open a connection, run its ping, print the time or the reason it failed.

    Goes through the running server when there is one (it sees the same
    network and in-memory backends as your services), else runs here.
    """
    from portway import plugin_cli

    answer = plugin_cli.ping(env, type_name, name)
    if not answer.ok:
        click.secho(f"FAILED: {answer.reason}", fg="red", err=True)
        raise SystemExit(1)
    click.echo(f"OK {answer.ms:.1f} ms")


@conn.group(cls=ActionGroup)
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
def action(env: str, type_name: str, name: str) -> None:
    """Run one of a connection type's actions and print the result.

    ACTION is one of TYPE's actions (`portway plugins` lists them); each has
    its own options: portway conn action ENV TYPE NAME ACTION --help.
    Like ping, it goes through the running server when there is one.
    """
