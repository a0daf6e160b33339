"""Entry point of portway-sftp: the ``sftp`` connection type and ``portway sftp`` commands.

Imported on every CLI call, so paramiko is imported only when a connection opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from portway import Action, ChannelType, ConnectionType, hookimpl
from portway_sftp.failures import is_broken
from portway_sftp.settings import SftpSettings

if TYPE_CHECKING:
    import click

    from portway_sftp.client import SftpClient


class ExecuteArguments(BaseModel):
    """Arguments of the ``execute`` action."""

    script: str = Field(description="Commands in OpenSSH sftp batch syntax, one per line (e.g. 'ls -la /in')")


class NoArguments(BaseModel):
    """The action takes no arguments."""


def connect(settings: SftpSettings) -> SftpClient:
    from portway_sftp.client import SftpClient

    return SftpClient.open(settings)


def ping(client: SftpClient) -> None:
    client.check()


def close(client: SftpClient) -> None:
    client.close()


def run_execute(client: SftpClient, arguments: ExecuteArguments) -> dict[str, Any]:
    """Run a script; the transcript comes back even when a command failed."""
    from portway.filescript import ScriptFailed

    try:
        return {"ok": True, "transcript": client.execute(arguments.script)}
    except ScriptFailed as exc:
        return {"ok": False, "transcript": str(exc.transcript), "error": str(exc)}


def run_ping(client: SftpClient, arguments: NoArguments) -> dict[str, Any]:
    return {"ms": round(client.ping(), 3), "command": client.settings.ping_command}


CONNECTION_TYPE = ConnectionType(
    name="sftp",
    settings=SftpSettings,
    connect=connect,
    ping=ping,
    close=close,
    summary="SFTP file transfer over SSH (paramiko), with sftp -b batch scripts",
    actions=(
        Action(
            name="execute",
            summary="Run sftp batch commands and return the transcript",
            arguments=ExecuteArguments,
            run=run_execute,
        ),
        Action(name="ping", summary="Run the ping command and time it", arguments=NoArguments, run=run_ping),
    ),
    is_broken=is_broken,
)


@hookimpl
def portway_connection_types() -> list[ConnectionType]:
    return [CONNECTION_TYPE]


@hookimpl
def portway_channel_types() -> list[ChannelType]:
    from portway_sftp.pickup import CHANNEL_TYPE as PICKUP

    return [PICKUP]


@hookimpl
def portway_cli(cli: click.Group) -> None:
    from portway_sftp.cli import sftp

    cli.add_command(sftp)
