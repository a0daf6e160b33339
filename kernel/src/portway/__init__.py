"""portway: an integration server for Python.

The public API a service or plugin author uses is re-exported here. Names
are imported on first use so that ``portway --help`` does not pay for
pydantic and structlog.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from portway import structlog_loader

structlog_loader.install()

if TYPE_CHECKING:
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

_EXPORTS = {
    "Action": "portway.declarations",
    "AuthFactor": "portway.declarations",
    "ChannelHost": "portway.declarations",
    "ChannelType": "portway.declarations",
    "ConnectionType": "portway.declarations",
    "Delivery": "portway.declarations",
    "Runner": "portway.declarations",
    "hookimpl": "portway.hookspecs",
    "Request": "portway.service",
    "Response": "portway.service",
    "Service": "portway.service",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'portway' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
