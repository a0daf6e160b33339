"""``portway plugins``: what is installed, from where, and how it fared."""

from __future__ import annotations

import json
from typing import Any

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--env", "env", type=click.Path(file_okay=False), help="Apply ENV's [plugins] disabled list.")
def plugins(as_json: bool, env: str | None) -> None:
    """List every plugin: name, version, distribution, status, contributions; then each connection
    type's actions with their arguments (run one: portway conn action ENV TYPE NAME ACTION)."""
    from portway import environment
    from portway.plugins import load_plugins
    from portway.views import plugin_views

    disabled = environment.load(env).settings.plugins.disabled if env else []
    rows = plugin_views(load_plugins(disabled))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
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
            f"[{style}]{escape(status)}[/]",
            ", ".join(row["contributes"]),
        )
    console = Console(width=160)
    console.print(table)
    actions = Table(
        "type", "action", "summary", "arguments", title="Actions: portway conn action ENV TYPE NAME ACTION"
    )
    for row in rows:
        for declared in row["connection_types"]:
            for action in declared["actions"]:
                cells = (declared["name"], action["name"], action["summary"], _arguments(action["arguments"]))
                actions.add_row(*(escape(cell) for cell in cells))  # "dict[str, str]" is no markup
    if actions.row_count:
        console.print(actions)


def _arguments(arguments: list[dict[str, Any]]) -> str:
    """``queue (str, required), limit (int, default 10)``, one line per argument."""
    parts = []
    for argument in arguments:
        if argument["required"]:
            detail = "required"
        elif argument["default"] is None:
            detail = "optional"
        else:
            detail = f"default {json.dumps(argument['default'])}"
        parts.append(f"{argument['name']} ({argument['type']}, {detail})")
    return "\n".join(parts) or "-"
