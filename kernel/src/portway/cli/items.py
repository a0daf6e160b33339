"""Commands shared by ``portway conn`` and ``portway channel``: create/update, list, show, delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import click

from portway import environment
from portway.cli.remote import notify_changed

if TYPE_CHECKING:
    from portway.cli.typed import Apply


Kind = Literal["connection", "channel"]


def open_runtime(env: str) -> Any:
    """A runtime of ENV for one CLI command (not booted: no deploys, no channels)."""
    from portway.runtime import Runtime

    return Runtime(environment.load(env))


def with_runtime(env: str, work: Callable[[Any], Any], changes: bool = False) -> Any:
    """Run ``work(runtime)``, close the runtime, tell a running server when config changed."""
    runtime = open_runtime(env)
    try:
        result = work(runtime)
    finally:
        runtime.close()
    if changes:
        notify_changed(runtime.env)
    return result


def with_store(env: str, work: Callable[[Any], Any], changes: bool = False) -> Any:
    """Run ``work(store)`` on ENV's config store alone: reads and deletes need no plugin."""
    from portway.store import Store

    loaded = environment.load(env)
    store = Store.open(loaded)
    try:
        result = work(store)
    finally:
        store.close()
    if changes:
        notify_changed(loaded)
    return result


def writer(kind: Kind, verb: Literal["create", "update"]) -> Apply:
    """What ``conn create ENV TYPE NAME ...`` (or update, or channel create) does with the options."""

    def apply(env: str, type_name: str, name: str, settings: dict[str, Any], pool: dict[str, Any]) -> None:
        pool_arg = pool if kind == "connection" else None
        saved = with_runtime(
            env, lambda rt: getattr(rt.catalog, verb)(kind, type_name, name, settings, pool_arg), changes=True
        )
        click.echo(f"{verb.capitalize()}d {type_name} {kind} {name!r}.")
        if getattr(saved, "notice", ""):
            click.secho(f"Note: {saved.notice}.", fg="yellow", err=True)
        if kind == "connection" and verb == "create":
            click.echo(f"Check it with: portway conn ping {env} {type_name} '{name}'")

    return apply


def add_item_commands(group: click.Group, kind: Kind) -> None:
    """Add ``list``, ``show`` and ``delete`` for ``kind`` to ``group``."""
    env_arg = click.argument("env", type=click.Path(file_okay=False))
    type_arg = click.argument("type_name", metavar="TYPE")

    @group.command("list")
    @env_arg
    @click.argument("type_name", required=False, metavar="[TYPE]")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def list_(env: str, type_name: str | None, as_json: bool) -> None:
        """List them, optionally of one TYPE (secrets masked)."""
        from portway.sealed import masked

        items = with_store(env, lambda store: [masked(i) for i in store.list(kind, type_name)])
        if as_json:
            click.echo(json.dumps([i.as_dict() for i in items], indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table("type", "name", "settings")
        for item in items:
            table.add_row(item.type, item.name, ", ".join(f"{k}={v}" for k, v in item.settings.items()))
        Console(soft_wrap=True).print(table)

    @group.command()
    @env_arg
    @type_arg
    @click.argument("name")
    def show(env: str, type_name: str, name: str) -> None:
        """Show one, as JSON (secrets masked)."""
        from portway.sealed import masked

        view = with_store(env, lambda store: masked(store.get(kind, type_name, name)))
        click.echo(json.dumps(view.as_dict(), indent=2))

    @group.command()
    @env_arg
    @type_arg
    @click.argument("name")
    def delete(env: str, type_name: str, name: str) -> None:
        """Delete one; a running server applies it at once."""
        with_store(env, lambda store: store.delete(kind, type_name, name), changes=True)
        click.echo(f"Deleted {type_name} {kind} {name!r}.")
