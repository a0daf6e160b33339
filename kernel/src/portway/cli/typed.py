"""Click groups whose subcommands are the installed connection or channel types.

``portway conn create ENV sftp NAME --host ...``: the ``sftp`` subcommand and
its options are built from the type's settings model when asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from pydantic import BaseModel

from portway.cli.model_options import collect, options_for, parse_pairs

Kind = str
# (env, type_name, item_name, settings, pool) -> None
Apply = Callable[[str, str, str, dict[str, Any], dict[str, Any]], None]

POOL_OPTIONS = {
    "pool_size": ("size", "--pool-size", click.INT),
    "pool_idle_timeout": ("idle_timeout_s", "--pool-idle-timeout", click.FLOAT),
    "pool_check_after": ("check_after_s", "--pool-check-after", click.FLOAT),
    "pool_connect_timeout": ("connect_timeout_s", "--pool-connect-timeout", click.FLOAT),
}


def _types(kind: Kind, ctx: click.Context) -> dict[str, Any]:
    from portway.plugins import load_plugins

    plugins = load_plugins(disabled_of(ctx.params.get("env")))
    return plugins.connection_types if kind == "connection" else plugins.channel_types


def disabled_of(env: str | None) -> list[str]:
    """ENV's disabled plugins, so commands for ENV never import them; none if ENV is unreadable."""
    if not env:
        return []
    from portway import environment
    from portway.errors import ConfigError

    try:
        return environment.load(env).settings.plugins.disabled
    except ConfigError:
        return []  # the command itself reports the unreadable environment


class TypeGroup(click.Group):
    """Subcommands = installed types of ``kind``; each applies settings through ``apply``."""

    def __init__(self, *args: Any, kind: Kind, apply: Apply, all_optional: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.apply = apply
        self.all_optional = all_optional

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_types(self.kind, ctx))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        declaration = _types(self.kind, ctx).get(name)
        if declaration is None:
            return None
        return self._command(name, declaration.settings, declaration.summary)

    def _command(self, type_name: str, model: type[BaseModel], summary: str) -> click.Command:
        from portway.pool import PoolSettings  # here: `conn list` and friends need no pool code

        label = f"{type_name} {self.kind}"
        params: list[click.Parameter] = [click.Argument(["name"])]
        params += options_for(model, all_optional=self.all_optional)
        params.append(
            click.Option(
                ["--setting", "-s", "pairs"], multiple=True, help="Any setting as key=value (repeatable)."
            )
        )
        if self.kind == "connection":
            params += [
                click.Option([flag, key], type=kind, help=PoolSettings.model_fields[field].description)
                for key, (field, flag, kind) in POOL_OPTIONS.items()
            ]

        def run(name: str, pairs: tuple[str, ...], **given: Any) -> None:
            env = click.get_current_context().parent.params["env"]  # type: ignore[union-attr]
            settings = {**parse_pairs(model, pairs, label), **collect(model, given, label)}
            pool = {
                field: given[key]
                for key, (field, _f, _k) in POOL_OPTIONS.items()
                if given.get(key) is not None
            }
            self.apply(env, type_name, name, settings, pool)

        return click.Command(
            type_name,
            params=params,
            callback=run,
            help=f"{summary or type_name}\n\nNAME is the {self.kind}'s name; settings below.",
        )
