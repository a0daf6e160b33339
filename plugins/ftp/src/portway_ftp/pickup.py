"""The ``ftp`` channel type: each complete new file in a folder of an ftp connection invokes a service.

All of the pickup logic (read locks, filters, the idempotent repository,
the lease, retries, moves) is the kernel's shared engine, ``portway.pickup``;
this module only names the connection type it polls through.
"""

from __future__ import annotations

from pydantic import Field

from portway import ChannelHost, ChannelType, Runner
from portway.pickup import PickupSettings, start_remote


class FtpPickupSettings(PickupSettings):
    """A ``ftp`` channel: poll ``folder`` on connection ``connection``, invoke ``service`` per file."""

    connection: str = Field(min_length=1, description="Name of the ftp connection to poll through")
    folder: str = Field(min_length=1, description="Remote folder to poll (absolute, or below the login one)")


def start(name: str, settings: FtpPickupSettings, host: ChannelHost) -> Runner:
    runner: Runner = start_remote(name, settings, host, "ftp")
    return runner


CHANNEL_TYPE = ChannelType(
    name="ftp",
    settings=FtpPickupSettings,
    start=start,
    summary="Invoke a service once for each complete new file in a folder of an ftp connection",
)
