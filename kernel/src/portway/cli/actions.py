"""``portway conn action ENV TYPE NAME ACTION``: each action of a type a command of its own.

The subcommands are the type's declared actions, built when asked for,
with one ``--option`` per field of the action's arguments model (as ``conn
create`` has one per setting), so ``portway conn action ENV ibm_mq QM1
browse --help`` shows what ``browse`` takes. ``--arg key=value`` sets any
argument too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from portway.declarations import Action, ConnectionType

PAIRS = "arg_pairs"


def _declaration(ctx: click.Context) -> ConnectionType | None:
    """The connection type named on the command line, or None before it is known (``--help``)."""
    type_name = ctx.params.get("type_name")
    if not type_name:
        return None
    from portway.cli.typed import disabled_of
    from portway.plugins import load_plugins

    return load_plugins(disabled_of(ctx.params.get("env"))).connection_type(type_name)


class ActionGroup(click.Group):
    """Subcommands = the actions of the connection type given as TYPE."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", "ACTION [OPTIONS]")
        super().__init__(*args, **kwargs)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # `conn action ENV TYPE NAME --help`: after its arguments a group reads the next word as a
        # command name; answer with this group's help, which lists TYPE's actions.
        if args and args[0] in ctx.help_option_names:
            click.echo(ctx.get_help())
            ctx.exit()
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        declaration = _declaration(ctx)
        with formatter.section("Actions"):
            if declaration is None:
                formatter.write_text("Give ENV TYPE NAME, then --help, to list TYPE's actions.")
                return
            rows = [(a.name, a.summary) for a in sorted(declaration.actions, key=lambda a: a.name)]
            formatter.write_dl(rows or [("(none)", "this type declares no actions")])

    def list_commands(self, ctx: click.Context) -> list[str]:
        declaration = _declaration(ctx)
        return sorted(a.name for a in declaration.actions) if declaration else []

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from portway import actions

        declaration = _declaration(ctx)
        if declaration is None:
            return None
        return action_command(declaration, actions.find(declaration, name))


def action_command(declaration: ConnectionType, action: Action) -> click.Command:
    """The click command running ``action``, its options from the action's arguments model."""
    from portway.cli.model_options import collect, options_for, parse_pairs
    from portway.errors import ArgumentError

    model = action.arguments
    label = f"{declaration.name} action {action.name!r}"
    params: list[click.Parameter] = [*options_for(model)]
    params.append(
        click.Option(["--arg", "-a", PAIRS], multiple=True, help="Any argument as key=value (repeatable).")
    )

    def run(**given: Any) -> None:
        from portway import plugin_cli

        parent = click.get_current_context().parent
        assert parent is not None
        env, type_name, name = (parent.params[key] for key in ("env", "type_name", "name"))
        pairs: tuple[str, ...] = given.pop(PAIRS)
        arguments = {
            **parse_pairs(model, pairs, label, "--arg", ArgumentError),
            **collect(model, given, label),
        }
        result = plugin_cli.run_action(env, type_name, name, action.name, arguments)
        click.echo(result if isinstance(result, str) else json.dumps(result, indent=2))

    return click.Command(
        action.name,
        params=params,
        callback=run,
        help=f"{action.summary or action.name}\n\nGoes through the running server when there is one.",
        short_help=action.summary,
    )
