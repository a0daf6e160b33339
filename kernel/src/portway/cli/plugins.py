"""``portway plugins``: what is installed, from where, and how it fared."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--env", "env", type=click.Path(file_okay=False), help="Apply ENV's [plugins] disabled list.")
def plugins(as_json: bool, env: str | None) -> None:
    """List every plugin: name, version, distribution, status, contributions."""
    from portway import environment
    from portway.plugins import load_plugins
    from portway.views import plugin_views

    disabled = environment.load(env).settings.plugins.disabled if env else []
    rows = plugin_views(load_plugins(disabled))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "version", "distribution", "status", "contributes")
    for row in rows:
        status = row["status"]
        style = "green" if status == "loaded" else "yellow" if status == "disabled" else "red"
        if row["missing_packages"]:
            status, style = f"loaded, missing: {', '.join(row['missing_packages'])}", "red"
        table.add_row(
            row["name"],
            row["version"],
            row["distribution"],
            f"[{style}]{status}[/]",
            ", ".join(row["contributes"]),
        )
    Console(width=160).print(table)
