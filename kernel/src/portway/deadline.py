"""A time limit on a plugin's call the kernel waits for: connect and ping.

A client library may take its time: retry a refused login for seconds, or
wait forever on a server that accepted the TCP connection and never
answers. The kernel does not wait past the connection's
``connect_timeout_s``: the call goes on in a daemon thread of its own, the
caller gets :class:`TimedOut` ("connect timed out after 30 s"), and a
client that a late connect still returns is closed, never leaked.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

T = TypeVar("T")
log = structlog.get_logger("portway.deadline")


class TimedOut(TimeoutError):
    """A call did not finish within its limit; the text says which and how long."""

    def __init__(self, what: str, seconds: float) -> None:
        self.what = what
        self.seconds = seconds
        super().__init__(f"{what} timed out after {seconds:g} s")


class _Outcome:
    """What the call ended with, or that its caller gave up on it. Guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.abandoned = False
        self.value: Any = None
        self.error: BaseException | None = None


def within(seconds: float, what: str, call: Callable[[], T], discard: Callable[[T], Any] | None = None) -> T:
    """``call()``'s result, or :class:`TimedOut` once ``seconds`` have passed.

    ``discard(result)`` is applied to a result that arrives too late (close
    a client nobody will use). The call runs with the caller's context
    variables, so its log lines keep the correlation id.
    """
    outcome = _Outcome()
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=_run, args=(context, call, discard, outcome, what), name=f"portway-{what}", daemon=True
    )
    thread.start()
    if not outcome.finished.wait(seconds):
        with outcome.lock:
            if not outcome.finished.is_set():
                outcome.abandoned = True
                raise TimedOut(what, seconds)
    if outcome.error is not None:
        raise outcome.error
    return outcome.value  # type: ignore[no-any-return]


def _run(
    context: contextvars.Context,
    call: Callable[[], T],
    discard: Callable[[T], Any] | None,
    outcome: _Outcome,
    what: str,
) -> None:
    value: Any = None
    error: BaseException | None = None
    try:
        value = context.run(call)
    except BaseException as exc:  # handed to the waiting caller, whatever it is
        error = exc
    with outcome.lock:
        if not outcome.abandoned:
            outcome.value, outcome.error = value, error
            outcome.finished.set()
            return
    if error is None and discard is not None:
        try:
            context.run(discard, value)
        except Exception as exc:  # closing a client nobody waits for: note it, nothing else to do
            log.info("late_result_discard_failed", call=what, reason=str(exc) or type(exc).__name__)
