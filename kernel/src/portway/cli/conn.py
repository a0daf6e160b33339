"""``portway conn``: outgoing connections, with options from each type's settings model."""

from __future__ import annotations

import json

import click

from portway import environment
from portway.cli.items import add_item_commands, with_runtime, writer
from portway.cli.remote import call, server_pid
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
    from portway.errors import ConnectionFailed

    loaded = environment.load(env)
    if server_pid(loaded) is not None:
        answer = call(loaded, "POST", f"/connections/{_quote(type_name)}/{_quote(name)}/ping", {})
        ok, ms, reason = answer["ok"], answer.get("ms", 0.0), answer.get("reason", "")
    else:
        try:
            ms, ok, reason = with_runtime(env, lambda rt: rt.connections.ping(type_name, name)), True, ""
        except ConnectionFailed as exc:
            ok, ms, reason = False, 0.0, exc.reason
    if not ok:
        click.secho(f"FAILED: {reason}", fg="red", err=True)
        raise SystemExit(1)
    click.echo(f"OK {ms:.1f} ms")


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
        result = with_runtime(env, lambda rt: run_connection_action(rt, type_name, name, action, arguments))
    click.echo(result if isinstance(result, str) else json.dumps(result, indent=2))


def _quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="")
