"""Entry point of portway-ftp: the ``ftp`` connection type, its actions and CLI.

This module is imported on every CLI call, so it imports only pydantic and
the kernel's declarations; ftplib, ssl and the client load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from portway import Action, ChannelType, ConnectionType, hookimpl
from portway_ftp.settings import FtpSettings

if TYPE_CHECKING:
    import click

    from portway_ftp.client import FtpClient


class ScriptArguments(BaseModel):
    """Arguments of the ``execute`` action."""

    model_config = {"extra": "forbid"}
    script: str = Field(min_length=1, description="Batch script in OpenSSH sftp -b syntax")


class NoArguments(BaseModel):
    """The ``ping`` action takes no arguments."""

    model_config = {"extra": "forbid"}


class PathArguments(BaseModel):
    """Arguments of the ``list`` action."""

    model_config = {"extra": "forbid"}
    path: str = Field(".", description="Remote directory; relative paths start at the login directory")


def connect(settings: FtpSettings) -> FtpClient:
    from portway_ftp.client import FtpClient

    return FtpClient.open(settings)


def ping(client: FtpClient) -> None:
    client.ping()


def close(client: FtpClient) -> None:
    client.close()


def is_broken(exc: BaseException) -> bool:
    from portway_ftp.client import is_broken as broken

    return broken(exc)


def run_execute(client: FtpClient, arguments: ScriptArguments) -> dict[str, Any]:
    from portway.filescript import ScriptFailed

    try:
        return {"ok": True, "transcript": client.execute(arguments.script)}
    except ScriptFailed as exc:
        return {
            "ok": False,
            "transcript": str(exc.transcript),
            "error": str(exc),
            "line": exc.line,
        }


def run_ping(client: FtpClient, arguments: NoArguments) -> dict[str, Any]:
    return {"ms": round(client.ping(), 3), "command": client.settings.ping_command}


def run_list(client: FtpClient, arguments: PathArguments) -> list[dict[str, Any]]:
    return [
        {
            "name": i.name,
            "path": i.path,
            "kind": str(i.kind),
            "size": i.size,
            "mtime": i.mtime.isoformat() if i.mtime else None,
            "mode": f"{i.mode:o}" if i.mode is not None else None,
            "owner": i.owner,
            "group": i.group,
            "link_target": i.link_target,
        }
        for i in client.list(arguments.path)
    ]


@hookimpl
def portway_connection_types() -> list[ConnectionType]:
    return [
        ConnectionType(
            name="ftp",
            settings=FtpSettings,
            connect=connect,
            ping=ping,
            close=close,
            summary="FTP and FTPS (explicit or implicit TLS) file servers, the same file API as SFTP",
            actions=(
                Action(
                    "execute",
                    "Run an sftp -b style batch script (get, put, ls, rm, mkdir, ...)",
                    ScriptArguments,
                    run_execute,
                ),
                Action("ping", "Send the ping command (NOOP) and time the reply", NoArguments, run_ping),
                Action("list", "List a remote directory", PathArguments, run_list),
            ),
            is_broken=is_broken,
        )
    ]


@hookimpl
def portway_channel_types() -> list[ChannelType]:
    from portway_ftp.pickup import CHANNEL_TYPE as PICKUP

    return [PICKUP]


@hookimpl
def portway_cli(cli: click.Group) -> None:
    from portway_ftp.commands import ftp

    cli.add_command(ftp)
