"""``portway sftp exec ENV CONN SCRIPT`` and ``portway sftp shell ENV CONN``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


@click.group()
def sftp() -> None:
    """Run sftp batch commands on a configured SFTP connection."""


def _client(env: str, name: str) -> Any:
    """A new client of sftp connection ``name`` of ``env``, closed when the command ends."""
    from portway import plugin_cli

    return plugin_cli.open_client(env, "sftp", name)


@sftp.command("exec")
@click.argument("env")
@click.argument("conn")
@click.argument("script")
def exec_(env: str, conn: str, script: str) -> None:
    """Run SCRIPT (sftp batch syntax; '-' reads it from stdin, '@FILE' from a file) and print the transcript.

    Exits with status 1 at the first failing command not prefixed with '-', like sftp -b.
    """
    from portway.filescript import ScriptFailed

    text = sys.stdin.read() if script == "-" else script
    if script.startswith("@"):
        path = Path(script[1:])
        if not path.is_file():
            raise click.BadParameter(f"script file {path} does not exist", param_hint="SCRIPT")
        text = path.read_text()
    with _client(env, conn) as client:
        try:
            transcript = client.execute(text)
        except ScriptFailed as exc:
            _echo(exc.transcript)
            raise SystemExit(1) from None
    click.echo(transcript, nl=False)


def _echo(transcript: Any) -> None:
    for stream, line in transcript.lines:
        click.echo(line, err=stream == "err")


@sftp.command()
@click.argument("env")
@click.argument("conn")
def shell(env: str, conn: str) -> None:
    """Interactive sftp shell on connection CONN; 'bye' or Ctrl-D leaves."""
    with _client(env, conn) as client:
        session = client.session()
        interactive = sys.stdin.isatty()
        while not session.finished:
            if interactive:
                try:
                    line = input("sftp> ")
                except EOFError:
                    break
            else:
                line = sys.stdin.readline()
                if not line:
                    break
            session.run_line(("@" if interactive else "") + line)
            for stream, text in session.take_lines():
                click.echo(text, err=stream == "err")
