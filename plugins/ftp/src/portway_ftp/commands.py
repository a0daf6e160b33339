"""``portway ftp``: run batch scripts on a configured FTP/FTPS connection."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

import click

if TYPE_CHECKING:
    from portway.filescript import Transcript


@click.group()
def ftp() -> None:
    """FTP/FTPS connections: run batch scripts."""


@ftp.command("exec")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("conn")
@click.argument("script", type=click.File("r", encoding="utf-8"))
def exec_script(env: str, conn: str, script: IO[str]) -> None:
    """Run SCRIPT (sftp -b syntax; '-' for stdin) on ftp connection CONN of ENV.

    Output goes to stdout and each failed command's message to stderr, as
    with `sftp -b`; the exit status is 1 when a command failed.
    """
    from portway import environment
    from portway.filescript import ScriptFailed, run_script
    from portway.runtime import Runtime
    from portway_ftp.client import FtpClient

    text = script.read()
    runtime = Runtime(environment.load(env))
    try:
        settings = runtime.catalog.resolve("connection", "ftp", conn)
    finally:
        runtime.close()
    with FtpClient.open(settings) as client:
        try:
            transcript = run_script(client, text)
        except ScriptFailed as exc:
            _show(exc.transcript)
            sys.exit(1)
    _show(transcript)


def _show(transcript: Transcript) -> None:
    for stream, line in transcript.lines:
        click.echo(line, err=stream == "err")
