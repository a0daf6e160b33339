"""Which process is an environment's server: a lock file the server holds for its whole life.

A pid file alone cannot say that: once its server is gone the pid in it may
belong to any process, and ``stop`` would signal that one. So the server
holds ``ENV/server.lock`` with ``flock`` from start to exit, and writes its
pid and its start time (from ``/proc``) inside. The kernel drops the lock
when the process ends, however it ends (``kill -9`` included), so:

* the server is running exactly when the lock is held;
* ``start`` refuses only then;
* ``stop``/``status`` believe the pid in the file only while the lock is
  held *and* the process with that pid started when the file says, and they
  signal it through a pidfd opened before that check, so a pid reused in
  between is never hit.

The file itself is never removed (a lock file that is unlinked and made
again lets two processes each hold "the" lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from portway.errors import PortwayError

# How long a starting server waits for a lock held only by another command's quick look.
_ACQUIRE_S = 0.5
# How long a reader waits for a server that has the lock to write its pid in it.
_CONTENT_S = 1.0


class AlreadyRunning(PortwayError):
    """Another process holds the environment's server lock."""


@dataclass(frozen=True)
class Holder:
    """The process holding the lock: its pid and the start time it wrote (empty where unknown)."""

    pid: int
    started: str

    def alive(self) -> bool:
        """Whether the process still runs and is the one that took the lock (not a reused pid)."""
        if not pid_alive(self.pid):
            return False
        return not self.started or start_time(self.pid) == self.started

    def wait_exit(self, timeout_s: float) -> bool:
        """Wait until the process has exited; ``False`` if it still runs after ``timeout_s``.

        On Linux a pidfd turns readable the moment the process ends, so this returns then,
        not on the next tick of a polling loop.
        """
        pidfd_open = getattr(os, "pidfd_open", None)
        deadline = time.monotonic() + timeout_s
        if pidfd_open is not None:
            try:
                pidfd = pidfd_open(self.pid)
            except ProcessLookupError:
                return True
            try:
                poller = select.poll()
                poller.register(pidfd, select.POLLIN)
                while self.alive():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    poller.poll(min(left, 1.0) * 1000)
                return True
            finally:
                os.close(pidfd)
        while self.alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def signal(self, sig: int) -> bool:
        """Send ``sig`` to the holder if it is still that process; return whether it was sent."""
        pidfd_open = getattr(os, "pidfd_open", None)
        if pidfd_open is None:  # no pidfds (not Linux): the identity check, then a plain kill
            if not self.alive():
                return False
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
                return True
            return False
        try:
            pidfd = pidfd_open(self.pid)
        except ProcessLookupError:
            return False
        try:
            # The pidfd names one process for good: checked after it is opened, a pid reused
            # before the check is refused and one reused after it cannot be reached.
            if not self.alive():
                return False
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(pidfd, sig)
                return True
            return False
        finally:
            os.close(pidfd)


class ServerLock:
    """The server's side: take the lock for this process's life (see the module docstring)."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    @classmethod
    def acquire(cls, path: Path) -> ServerLock:
        """Take the lock and write this process in it; raise :class:`AlreadyRunning` if another has it."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + _ACQUIRE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:  # perhaps only `portway status` looking
                    time.sleep(0.01)
                    continue
                os.close(fd)
                other = holder(path)
                who = f"pid {other.pid}" if other is not None else "another process"
                raise AlreadyRunning(
                    f"the server of {path.parent} is already running ({who} holds {path})"
                ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {start_time(os.getpid())}\n".encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        """Let the lock go (the file stays, with a pid no one believes without the lock)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def holder(path: Path) -> Holder | None:
    """The process holding the lock at ``path``, or None when no live process does."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: a server is running
        else:
            return None  # nobody holds it: whatever pid it names is not a server
        deadline = time.monotonic() + _CONTENT_S
        while True:
            words = os.pread(fd, 64, 0).split()
            if words or time.monotonic() > deadline:
                break
            time.sleep(0.01)  # the server took the lock and is writing its pid
    finally:
        os.close(fd)
    if not words or not words[0].isdigit():
        return None
    found = Holder(int(words[0]), words[1].decode() if len(words) > 1 else "")
    return found if found.alive() else None


def start_time(pid: int) -> str:
    """When process ``pid`` started, in clock ticks since boot (``/proc``); empty when unknown."""
    try:
        # Field 22 of /proc/PID/stat; the command name before it may hold spaces, so split after ")".
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[19]
    except (OSError, IndexError):
        return ""


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; only its parent has not reaped it yet
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
