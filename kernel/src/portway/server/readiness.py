"""Telling ``portway start`` the moment the server answers, through a pipe instead of a polling loop.

``portway start`` passes the write end of a pipe as ``PORTWAY_READY_FD``. The
server writes one line (``ready SERVICES``) once uvicorn listens and the
lifespan has booted (services deployed, channels started), and closes it. A
server that dies first closes the pipe by dying, so the reader wakes either
way, at once.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Callable

READY_FD = "PORTWAY_READY_FD"


def ready_reporter(services: Callable[[], int]) -> Callable[[], None]:
    """What the server calls when ready: writes to the pipe ``portway start`` gave, if any."""
    raw = os.environ.pop(READY_FD, "")
    if not raw.isdigit():
        return lambda: None
    fd = int(raw)
    with contextlib.suppress(OSError):
        os.set_inheritable(fd, False)  # not for processes this server starts

    def report() -> None:
        with contextlib.suppress(OSError):
            os.write(fd, f"ready {services()}\n".encode())
            os.close(fd)

    return report


def wait_ready(fd: int, timeout_s: float) -> int | None:
    """Services count once the server says it is ready; None if the pipe closed first (it died).

    Raises :class:`TimeoutError` when neither happened within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    received = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        readable, _, _ = select.select([fd], [], [], left)
        if not readable:
            continue
        chunk = os.read(fd, 64)
        if not chunk:
            return None
        received += chunk
        if received.endswith(b"\n"):
            words = received.split()
            return int(words[1]) if len(words) == 2 and words[1].isdigit() else 0
