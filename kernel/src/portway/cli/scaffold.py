"""``portway plugin new NAME``: start a plugin package (see :mod:`portway.scaffold`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def plugin() -> None:
    """Write a new plugin package."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    default=".",
    type=click.Path(file_okay=False),
    help="Folder to write it in (default: here).",
)
def new(name: str, parent: str) -> None:
    """Write portway-NAME/: a connection type NAME with settings, connect/ping/close, one action,
    a README and tests, ready to install and pass its tests as generated."""
    from portway.scaffold import Names, new_plugin

    root = new_plugin(name, Path(parent))
    names = Names(name)
    click.echo(f"Wrote {root}")
    for path, what in (
        ("pyproject.toml", "the portway.plugins entry point"),
        (f"src/{names.package}/plugin.py", f"settings model and the {name} connection type"),
        (f"src/{names.package}/client.py", "connect, ping, close: put your client library here"),
        (f"tests/test_{name}_plugin.py", "tests against a real (local) server"),
    ):
        click.echo(f"  {path:<{len(names.package) + 20}} {what}")
    click.echo("Next:")
    click.echo(f"  cd {root}")
    click.echo("  pip install -e '.[test]'    # or: uv pip install -e '.[test]'")
    click.echo("  pytest")
    click.echo(f"  portway plugins             # {name} is listed, loaded, with its echo action")
