"""One connection's own SSH protocol log (``log_level = "debug"``): paramiko's records, to structlog."""

from __future__ import annotations

import logging

import structlog


class StructlogHandler(logging.Handler):
    """Forwards paramiko's stdlib log records for one connection to structlog.

    At info level: the connection asked for its protocol log (``log_level =
    "debug"``), so it shows at the server's default ``[log] level`` too.
    """

    def __init__(self, connection: str) -> None:
        super().__init__(logging.DEBUG)
        self.log = structlog.get_logger("portway.sftp.protocol").bind(connection=connection)

    def emit(self, record: logging.LogRecord) -> None:
        self.log.info("ssh", source=record.name, message=record.getMessage())


def attach(channel: str, address: str) -> logging.Handler:
    """Send the records of paramiko's log channel ``channel`` (one connection's) to structlog."""
    handler = StructlogHandler(address)
    logger = logging.getLogger(channel)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False  # the handler forwards each record; the root handler would log it twice
    return handler
