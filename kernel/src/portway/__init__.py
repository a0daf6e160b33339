"""portway: an integration server for Python.

The public API a service or plugin author uses is re-exported here.
"""

from portway.declarations import (
    Action,
    AuthFactor,
    ChannelHost,
    ChannelType,
    ConnectionType,
    Delivery,
    Runner,
)
from portway.hookspecs import hookimpl
from portway.service import Request, Response, Service

__all__ = [
    "Action",
    "AuthFactor",
    "ChannelHost",
    "ChannelType",
    "ConnectionType",
    "Delivery",
    "Request",
    "Response",
    "Runner",
    "Service",
    "hookimpl",
]
