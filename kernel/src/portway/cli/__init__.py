"""The ``portway`` command line.

Command modules are imported only when their command runs, and plugins
only when a plugin command is asked for, so ``portway --help`` stays fast.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

# name -> "module:attribute"; plugins add more through the portway_cli hook.
BUILTIN_COMMANDS = {
    "create": "portway.cli.env:create",
    "quickstart": "portway.cli.env:quickstart",
    "start": "portway.cli.env:start",
    "stop": "portway.cli.env:stop",
    "status": "portway.cli.env:status",
    "invoke": "portway.cli.invoke:invoke",
    "conn": "portway.cli.conn:conn",
    "channel": "portway.cli.channel:channel",
    "plugins": "portway.cli.plugins:plugins",
    "plugin": "portway.cli.scaffold:plugin",
    "deploy": "portway.cli.deploy:deploy",
    "cluster": "portway.cli.cluster:cluster",
    "admin": "portway.cli.admin:admin",
    "enmasse": "portway.cli.enmasse:enmasse",
}

SUMMARIES = {
    "create": "Create a new environment folder.",
    "quickstart": "Create an environment with an example service and start it.",
    "start": "Start the server of an environment.",
    "stop": "Stop the server, draining in-flight work; returns when it has exited.",
    "status": "Show whether the server runs and what it serves.",
    "invoke": "Invoke a service and print its response.",
    "conn": "Create, list, show, ping and delete outgoing connections.",
    "channel": "Create, list, show and delete channels.",
    "plugins": "List installed plugins, their status and their actions.",
    "plugin": "Write a new plugin package: portway plugin new NAME.",
    "deploy": "List deployed services, show deploy errors, roll back, push to the cluster.",
    "cluster": "See the servers sharing a PostgreSQL store and their code revision.",
    "admin": "Manage web console users and their second factor.",
    "enmasse": "Export or import all connections and channels as one YAML file.",
}


class PortwayGroup(click.Group):
    """Lazy commands, plugin commands, and one-line errors instead of tracebacks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plugins_added = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self._available_builtins(), *self._plugin_listing()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name in BUILTIN_COMMANDS:
            module_name, attribute = BUILTIN_COMMANDS[name].split(":")
            try:
                command: click.Command = getattr(importlib.import_module(module_name), attribute)
            except ImportError:
                return None
            self.commands[name] = command
            return command
        self._add_plugin_commands()
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help lists builtins from SUMMARIES and plugin commands from the
        # listing cache, importing neither.
        rows = [(n, SUMMARIES[n]) for n in self._available_builtins()]
        rows += [(n, text) for n, text in self._plugin_listing().items() if n not in SUMMARIES]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))

    def invoke(self, ctx: click.Context) -> Any:
        from portway import structlog_loader
        from portway.errors import PortwayError

        # Library and kernel logs go to stderr, quietly, so stdout stays the answer; set up
        # when something first logs, so a command that never does never loads structlog.
        structlog_loader.when_imported(_quiet_logs)
        try:
            return super().invoke(ctx)
        except PortwayError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(1)

    def _available_builtins(self) -> list[str]:
        found = []
        for name, target in BUILTIN_COMMANDS.items():
            spec = importlib.util.find_spec(target.split(":")[0])
            if spec is not None:
                found.append(name)
        return found

    def _plugin_listing(self) -> dict[str, str]:
        from portway.cli import listing

        key = listing.current_key()
        cached = listing.read(key)
        if cached is not None:
            return cached
        self._add_plugin_commands()
        commands = {
            n: c.get_short_help_str(60) for n, c in self.commands.items() if n not in BUILTIN_COMMANDS
        }
        listing.write(key, commands)
        return commands

    def _add_plugin_commands(self) -> None:
        if self._plugins_added:
            return
        self._plugins_added = True
        from portway.plugins import load_plugins

        load_plugins().call_each("portway_cli", cli=self)


@click.group(cls=PortwayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portway")
def cli() -> None:
    """portway: an integration server for Python services.

    Most commands take ENV, the folder of an environment made by
    `portway create ENV`.
    """


def _quiet_logs() -> None:
    loading = sys.modules.get("portway.logs")
    if loading is not None and not hasattr(loading, "configure"):
        return  # portway.logs itself is importing structlog: its caller (the server) configures logging
    from portway import logs

    logs.configure("warning")


def main() -> None:
    cli()
