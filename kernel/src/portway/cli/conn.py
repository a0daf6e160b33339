"""``portway conn``: outgoing connections, with options from each type's settings model."""

from __future__ import annotations

import json
from typing import Any

import click

from portway import environment
from portway.cli.remote import call, notify_changed, server_pid
from portway.cli.typed import TypeGroup


def _runtime(env: str) -> Any:
    from portway.runtime import Runtime

    return Runtime(environment.load(env))


def _apply_create(
    env: str, type_name: str, name: str, settings: dict[str, Any], pool: dict[str, Any]
) -> None:
    runtime = _runtime(env)
    try:
        runtime.catalog.create("connection", type_name, name, settings, pool)
    finally:
        runtime.close()
    notify_changed(runtime.env)
    click.echo(
        f"Created {type_name} connection {name!r}. "
        f"Check it with: portway conn ping {env} {type_name} '{name}'"
    )


def _apply_update(
    env: str, type_name: str, name: str, settings: dict[str, Any], pool: dict[str, Any]
) -> None:
    runtime = _runtime(env)
    try:
        runtime.catalog.update("connection", type_name, name, settings, pool)
    finally:
        runtime.close()
    notify_changed(runtime.env)
    click.echo(f"Updated {type_name} connection {name!r}.")


@click.group()
def conn() -> None:
    """Outgoing connections (SFTP, FTP, IBM MQ, ... as installed)."""


@conn.group(cls=TypeGroup, kind="connection", apply=_apply_create, all_optional=False)
@click.argument("env", type=click.Path(file_okay=False))
def create(env: str) -> None:
    """Create a connection: portway conn create ENV TYPE NAME --setting ..."""


@conn.group(cls=TypeGroup, kind="connection", apply=_apply_update, all_optional=True)
@click.argument("env", type=click.Path(file_okay=False))
def update(env: str) -> None:
    """Change some settings: portway conn update ENV TYPE NAME --setting ..."""


@conn.command("list")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", required=False, metavar="[TYPE]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(env: str, type_name: str | None, as_json: bool) -> None:
    """List connections, optionally of one TYPE."""
    runtime = _runtime(env)
    try:
        items = runtime.catalog.list("connection", type_name)
    finally:
        runtime.close()
    if as_json:
        click.echo(json.dumps([i.as_dict() for i in items], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("type", "name", "settings")
    for item in items:
        table.add_row(item.type, item.name, ", ".join(f"{k}={v}" for k, v in item.settings.items()))
    Console().print(table)


@conn.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
def show(env: str, type_name: str, name: str) -> None:
    """Show one connection's settings (secrets masked)."""
    runtime = _runtime(env)
    try:
        view = runtime.catalog.show("connection", type_name, name)
    finally:
        runtime.close()
    click.echo(json.dumps(view.as_dict(), indent=2))


@conn.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
def ping(env: str, type_name: str, name: str) -> None:
    """Open a connection, run its ping, print the time or the reason it failed.

    Goes through the running server when there is one (it sees the same
    network and in-memory backends as your services), else runs here.
    """
    from portway.errors import ConnectionFailed

    loaded = environment.load(env)
    if server_pid(loaded) is not None:
        answer = call(loaded, "POST", f"/connections/{_quote(type_name)}/{_quote(name)}/ping", {})
        ok, ms, reason = answer["ok"], answer.get("ms", 0.0), answer.get("reason", "")
    else:
        runtime = _runtime(env)
        try:
            ms, ok, reason = runtime.connections.ping(type_name, name), True, ""
        except ConnectionFailed as exc:
            ok, ms, reason = False, 0.0, exc.reason
        finally:
            runtime.close()
    if not ok:
        click.secho(f"FAILED: {reason}", fg="red", err=True)
        raise SystemExit(1)
    click.echo(f"OK {ms:.1f} ms")


@conn.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
def delete(env: str, type_name: str, name: str) -> None:
    """Delete a connection."""
    runtime = _runtime(env)
    try:
        runtime.catalog.delete("connection", type_name, name)
    finally:
        runtime.close()
    notify_changed(runtime.env)
    click.echo(f"Deleted {type_name} connection {name!r}.")


@conn.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("type_name", metavar="TYPE")
@click.argument("name")
@click.argument("action")
@click.option("--arg", "-a", "pairs", multiple=True, help="Action argument as key=value (repeatable).")
def action(env: str, type_name: str, name: str, action: str, pairs: tuple[str, ...]) -> None:
    """Run one of a connection type's actions (see `portway plugins`) and print the result.

    Like ping, it goes through the running server when there is one.
    """
    from portway.cli.model_options import parse_pairs
    from portway.plugins import load_plugins
    from portway.server.admin_api import run_connection_action

    loaded = environment.load(env)
    declaration = load_plugins(loaded.settings.plugins.disabled).connection_type(type_name)
    model = next((a.arguments for a in declaration.actions if a.name == action), None)
    arguments = parse_pairs(model, pairs, f"{type_name} action {action!r}") if model else {}
    if server_pid(loaded) is not None:
        path = f"/connections/{_quote(type_name)}/{_quote(name)}/actions/{_quote(action)}"
        result = call(loaded, "POST", path, arguments)["result"]
    else:
        runtime = _runtime(env)
        try:
            result = run_connection_action(runtime, type_name, name, action, arguments)
        finally:
            runtime.close()
    click.echo(result if isinstance(result, str) else json.dumps(result, indent=2))


def _quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="")
