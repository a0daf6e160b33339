"""``portway channel``: incoming channels (HTTP, IBM MQ queues, file pickup, ...)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

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


@channel.command("status")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def status(env: str, type_name: str, name: str, as_json: bool) -> None:
    """A channel on the running server: running or its error; pickup channels' last poll, counts, lease."""
    from portway import environment
    from portway.cli.remote import call, server_pid
    from portway.errors import PortwayError

    loaded = environment.load(env)
    if server_pid(loaded) is None:
        raise PortwayError(f"the server of {env} is not running; start it with `portway start {env}`")
    report: dict[str, Any] = call(
        loaded, "GET", f"/channels/{quote(type_name)}/{quote(name, safe='')}/status"
    )
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{type_name} channel {name!r}: {'running' if report['running'] else 'not running'}")
    if report.get("error"):
        click.secho(f"error: {report['error']}", fg="red")
    if "lease" in report:
        polled = report.get("last_poll")
        ago = f"{time.time() - polled:.1f} s ago" if polled else "never"
        click.echo(f"folder: {report['folder']}   last poll: {ago}   in flight: {report['in_flight']}")
        click.echo(
            "files: " + "  ".join(f"{k} {report[k]}" for k in ("seen", "taken", "done", "failed", "retried"))
        )
        holder = report.get("lease_holder") or "nobody"
        mine = " (this server)" if report.get("lease_held") else ""
        click.echo(f"lease {report['lease']}: {holder}{mine}")
        if report.get("folder_error"):
            click.secho(f"folder error: {report['folder_error']}", fg="red")
        for error in report.get("last_errors", []):
            stamp = time.strftime("%H:%M:%S", time.localtime(error["at"]))
            click.echo(f"  {stamp} {error['what']}: {error['error']}")
