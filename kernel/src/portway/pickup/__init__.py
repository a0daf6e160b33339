"""File pickup: channels that hand each complete new file of a folder to a service, exactly once.

The public part, for plugins adding a pickup channel on their file
connection (see docs/file-pickup.md):

- :class:`PickupSettings`: the settings every pickup channel has (read
  lock, filters, move/delete/keep, retries); subclass it and add a
  ``connection`` field.
- :func:`start_remote`: ``start`` a channel on a ``portway.files.FileClient``
  connection: ``start_remote(name, settings, host, "sftp")``.
- :class:`Source` and :class:`Entry`: the protocol a folder offers, to
  write a source of your own for :class:`PickupChannel`.

Names are imported on first use: plugins import this at every CLI call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portway.pickup.engine import PickupChannel
    from portway.pickup.remote import RemoteSource, start_remote
    from portway.pickup.settings import PickupSettings
    from portway.pickup.source import Entry, Source

_EXPORTS = {
    "PickupChannel": "portway.pickup.engine",
    "PickupSettings": "portway.pickup.settings",
    "RemoteSource": "portway.pickup.remote",
    "start_remote": "portway.pickup.remote",
    "Entry": "portway.pickup.source",
    "Source": "portway.pickup.source",
}

__all__ = ["Entry", "PickupChannel", "PickupSettings", "RemoteSource", "Source", "start_remote"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'portway.pickup' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
