"""The ``sftp`` channel type: each complete new file in a folder of an sftp connection invokes a service.

All of the pickup logic (read locks, filters, the idempotent repository,
the lease, retries, moves) is the kernel's shared engine, ``portway.pickup``;
this module only names the connection type it polls through.
"""

from __future__ import annotations

from pydantic import Field

from portway import ChannelHost, ChannelType, Runner
from portway.pickup import PickupSettings, RemoteSource, start_remote


class SftpPickupSettings(PickupSettings):
    """A ``sftp`` channel: poll ``folder`` on connection ``connection``, invoke ``service`` per file."""

    connection: str = Field(min_length=1, description="Name of the sftp connection to poll through")
    folder: str = Field(min_length=1, description="Remote folder to poll (absolute, or below the login one)")


class SftpSource(RemoteSource):
    """An SFTP folder whose moves are one plain rename (it refuses an existing target by itself),
    and whose reads of a group go out together: two round trips for the group, not two per file."""

    def rename(self, source: str, target: str) -> None:
        self.call(lambda client: client.rename_new(source, target))

    def read_many(self, paths: list[str]) -> list[bytes | Exception]:
        found: list[bytes | Exception] = self.call(lambda client: list(client.read_many(paths)))
        return found


def start(name: str, settings: SftpPickupSettings, host: ChannelHost) -> Runner:
    runner: Runner = start_remote(name, settings, host, "sftp", source=SftpSource)
    return runner


CHANNEL_TYPE = ChannelType(
    name="sftp",
    settings=SftpPickupSettings,
    start=start,
    summary="Invoke a service once for each complete new file in a folder of an sftp connection",
)
