"""structlog set-up: console or JSON lines, with the correlation id bound per call.

Every event, portway's own and those of libraries logging through stdlib
``logging`` (uvicorn, paramiko, ...), goes through one handler and one
formatter, so the same rules hold for all of them: tracebacks are plain (no
local variables, which held request headers, cookies and passwords), keys
that carry credentials are masked, and known secret values are replaced in
the rendered line (see :mod:`portway.redaction`).

Third-party libraries (stdlib records not under a ``portway`` name) speak
only from WARNING up unless ``[log] level`` is ``debug``: paramiko alone
logs a few INFO lines for every pooled session. structlog events always
pass: libraries do not use it, services and plugins do.
A plugin that offers a per-connection debug log (``log_level = "debug"``
on an sftp connection) forwards its library's records under its own
``portway...`` logger name, so they pass.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

from portway import redaction
from portway.logfiles import LogFile, PrivateRotatingFileHandler, open_handler

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure(
    level: str = "info", fmt: str = "console", stream: TextIO | None = None, file: LogFile | None = None
) -> None:
    """Configure structlog and stdlib logging once per process: to ``file``, else ``stream`` (stderr)."""
    numeric = _LEVELS[level]
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, redaction.redact_event, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Not cached: a later configure() (a test, an embedding app) must
        # reach module-level loggers too; the cost is a lookup per event.
        cache_logger_on_first_use=False,
    )
    handler = open_handler(file) if file is not None else logging.StreamHandler(stream or sys.stderr)
    if numeric > logging.DEBUG:
        handler.addFilter(quiet_libraries)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # Plain traceback text (traceback.format_exception): never locals.
                structlog.processors.format_exc_info,
                _scrubbed(_renderer(fmt)),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, redaction.redact_event],
        )
    )
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, PrivateRotatingFileHandler):  # ours, from an earlier configure()
            old.close()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.INFO) if level != "debug" else numeric)


def is_ours(logger_name: str) -> bool:
    """A logger of portway's: the kernel's, a plugin's (``portway_sftp...``) or a deployed service's."""
    return logger_name == "portway" or logger_name.startswith(("portway.", "portway_"))


def quiet_libraries(record: logging.LogRecord) -> bool:
    """The handler's filter: any structlog event or stdlib record of ours, a library's from WARNING up."""
    # structlog's wrap_for_formatter hands stdlib the event dict with its logger attached.
    if record.levelno >= logging.WARNING or (isinstance(record.msg, dict) and hasattr(record, "_logger")):
        return True
    return is_ours(record.name)


def _renderer(fmt: str) -> structlog.typing.Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    # plain_traceback, not the default (rich, with show_locals): locals held secrets.
    return structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)


def _scrubbed(renderer: structlog.typing.Processor) -> structlog.typing.Processor:
    def render(logger: Any, method: str, event: Any) -> Any:
        line = renderer(logger, method, event)
        return redaction.KNOWN.scrub(line) if isinstance(line, str) else line

    return render
