"""``portway ftp``: run batch scripts on a configured FTP/FTPS connection."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from portway.filescript import Transcript


@click.group()
def ftp() -> None:
    """FTP/FTPS connections: run batch scripts."""


@ftp.command("exec")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("conn")
@click.argument("script")
def exec_script(env: str, conn: str, script: str) -> None:
    """Run SCRIPT (sftp -b syntax; '-' reads it from stdin, '@FILE' from a file) on ftp connection CONN.

    Output goes to stdout and each failed command's message to stderr, as
    with `sftp -b`; the exit status is 1 at the first failing command not
    prefixed with '-'.
    """
    from portway import plugin_cli
    from portway.filescript import ScriptFailed, run_script

    text = _script_text(script)
    with plugin_cli.open_client(env, "ftp", conn) as client:
        try:
            transcript = run_script(client, text, prompt="ftp")
        except ScriptFailed as exc:
            _show(exc.transcript)
            sys.exit(1)
    _show(transcript)


def _script_text(script: str) -> str:
    if script == "-":
        return sys.stdin.read()
    if script.startswith("@"):
        path = Path(script[1:])
        if not path.is_file():
            raise click.BadParameter(f"script file {path} does not exist", param_hint="SCRIPT")
        return path.read_text(encoding="utf-8")
    return script


def _show(transcript: Transcript) -> None:
    for stream, line in transcript.lines:
        click.echo(line, err=stream == "err")
