"""``self.out.<type>[name]``: a service's way to its outgoing connections."""

from __future__ import annotations

from typing import Any

from portway.connections import Lease
from portway.errors import NotFoundError


class ConnectionHandle:
    """One named connection. ``.conn`` is a pooled client held for this call.

    Attribute access falls through to the client, so
    ``self.out.ibm_mq["QM1"].send(...)`` equals ``....conn.send(...)``.
    """

    def __init__(self, lease: Lease, type_name: str, name: str) -> None:
        self._lease = lease
        self.type_name = type_name
        self.name = name

    @property
    def conn(self) -> Any:
        return self._lease.take(self.type_name, self.name)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self.conn, attribute)


class ConnectionsOfType:
    """``self.out.sftp``: index it by connection name."""

    def __init__(self, lease: Lease, type_name: str) -> None:
        self._lease = lease
        self.type_name = type_name

    def __getitem__(self, name: str) -> ConnectionHandle:
        return ConnectionHandle(self._lease, self.type_name, name)

    def __contains__(self, name: str) -> bool:
        return name in self._lease.connections.names(self.type_name)

    def names(self) -> list[str]:
        return self._lease.connections.names(self.type_name)


class Outgoing:
    """``self.out``: one attribute per installed connection type."""

    def __init__(self, lease: Lease) -> None:
        self._lease = lease

    def __getattr__(self, type_name: str) -> ConnectionsOfType:
        if type_name.startswith("_"):
            raise AttributeError(type_name)
        types = self._lease.connections.catalog.plugins.connection_types
        if type_name not in types:
            raise NotFoundError(
                "connection type",
                type_name,
                f"installed types: {', '.join(sorted(types)) or 'none'}; install its plugin",
            )
        return ConnectionsOfType(self._lease, type_name)
