"""``portway channel``: incoming channels (HTTP, IBM MQ queues, ...)."""

from __future__ import annotations

import json
from typing import Any

import click

from portway import environment
from portway.cli.remote import notify_changed
from portway.cli.typed import TypeGroup


def _runtime(env: str) -> Any:
    from portway.runtime import Runtime

    return Runtime(environment.load(env))


def _apply_create(
    env: str, type_name: str, name: str, settings: dict[str, Any], pool: dict[str, Any]
) -> None:
    runtime = _runtime(env)
    try:
        runtime.catalog.create("channel", type_name, name, settings)
    finally:
        runtime.close()
    notify_changed(runtime.env)
    click.echo(f"Created {type_name} channel {name!r}.")


@click.group()
def channel() -> None:
    """Incoming channels: what invokes which service."""


@channel.group(cls=TypeGroup, kind="channel", apply=_apply_create, all_optional=False)
@click.argument("env", type=click.Path(file_okay=False))
def create(env: str) -> None:
    """Create a channel: portway channel create ENV TYPE NAME --setting ..."""


@channel.command("list")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", required=False, metavar="[TYPE]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(env: str, type_name: str | None, as_json: bool) -> None:
    """List channels, optionally of one TYPE."""
    runtime = _runtime(env)
    try:
        items = runtime.catalog.list("channel", type_name)
    finally:
        runtime.close()
    if as_json:
        click.echo(json.dumps([i.as_dict() for i in items], indent=2))
        return
    for item in items:
        click.echo(f"{item.type}\t{item.name}\t" + ", ".join(f"{k}={v}" for k, v in item.settings.items()))


@channel.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
def show(env: str, type_name: str, name: str) -> None:
    """Show one channel's settings."""
    runtime = _runtime(env)
    try:
        view = runtime.catalog.show("channel", type_name, name)
    finally:
        runtime.close()
    click.echo(json.dumps(view.as_dict(), indent=2))


@channel.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
def delete(env: str, type_name: str, name: str) -> None:
    """Delete a channel (a running server stops it, draining in-flight work)."""
    runtime = _runtime(env)
    try:
        runtime.catalog.delete("channel", type_name, name)
    finally:
        runtime.close()
    notify_changed(runtime.env)
    click.echo(f"Deleted {type_name} channel {name!r}.")
