"""The web console served under ``/admin``: see :func:`portway.console.app.build_console`.

Nothing is imported here, so the CLI's ``portway admin`` commands load only
the user table code, not the web stack.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "build_console":
        from portway.console.app import build_console

        return build_console
    raise AttributeError(name)
