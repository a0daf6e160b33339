"""The web console served under ``/admin``: see :func:`portway.console.app.build_console`."""

from portway.console.app import build_console

__all__ = ["build_console"]
