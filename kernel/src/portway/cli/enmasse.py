"""``portway enmasse``: every connection and channel as one YAML file, out and back in."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from portway.cli.items import with_runtime
from portway.cli.remote import notify_changed
from portway.errors import ConfigError

ENV_ARG = click.argument("env", type=click.Path(file_okay=False))


@click.group()
def enmasse() -> None:
    """Export or import all connections and channels as one YAML file."""


@enmasse.command("export")
@ENV_ARG
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: standard output)."
)
@click.option(
    "--include-secrets",
    is_flag=True,
    help="Write secrets in clear (a file is then readable by its owner only). "
    "Default: each secret becomes a ${VAR} reference to set where the file is imported.",
)
def export_(env: str, output: str | None, include_secrets: bool) -> None:
    """Write every connection and channel of ENV as YAML."""
    import yaml  # type: ignore[import-untyped]

    from portway import enmasse as enmasse_

    result = with_runtime(env, lambda rt: enmasse_.export(rt.catalog, include_secrets=include_secrets))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = f"# portway enmasse export of {env}, {stamp}\n# portway enmasse import ENV FILE reads it back\n"
    text += yaml.safe_dump(result.document, sort_keys=False, allow_unicode=True)
    if output:
        _write(Path(output), text, private=include_secrets)
        connections, channels = (len(result.document[key]) for key in ("connections", "channels"))
        click.echo(f"Wrote {connections} connections and {channels} channels to {output}.")
    else:
        click.echo(text, nl=False)
    for warning in result.warnings:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    if result.variables:
        click.echo(
            "Secrets are written as ${VAR} references: set these variables where the file is imported "
            "(or export again with --include-secrets):\n  " + "\n  ".join(result.variables),
            err=True,
        )


@enmasse.command("import")
@ENV_ARG
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Validate the file and show what would change; write nothing.")
@click.option(
    "--delete-missing", is_flag=True, help="Also delete connections and channels the file does not name."
)
def import_(env: str, file: str, dry_run: bool, delete_missing: bool) -> None:
    """Create or update ENV's connections and channels from FILE, all or none.

    Every item is validated first; one bad item means nothing is written.
    Items the file does not name are kept unless --delete-missing.
    """
    from portway import enmasse as enmasse_

    document = enmasse_.parse(_read(Path(file)), file)

    def work(runtime: Any) -> Any:
        planned = enmasse_.plan(runtime.catalog, document, delete_missing=delete_missing)
        if not dry_run:
            enmasse_.apply(runtime.catalog, planned)
        return planned

    planned, loaded_env = with_runtime(env, lambda rt: (work(rt), rt.env))
    for step in planned.changes:
        click.echo(f"  {step.action:<7} {step.type} {step.kind} {step.name!r}")
    summary = ", ".join(
        f"{planned.count(action)} to {action}" if dry_run else f"{planned.count(action)} {action}d"
        for action in ("create", "update", "delete")
    )
    unchanged = planned.count("unchanged")
    if dry_run:
        click.echo(f"Dry run, nothing written: {summary}, {unchanged} unchanged.")
        return
    click.echo(f"Imported {file}: {summary}, {unchanged} unchanged.")
    if planned.changes:
        notify_changed(loaded_env)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None


def _write(path: Path, text: str, *, private: bool) -> None:
    """Write atomically; with ``private``, the file is created 0600 (the rename keeps that), never readable
    by others even briefly."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a leftover could carry another mode: O_EXCL makes a fresh file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
