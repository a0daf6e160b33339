"""What deploying a file comes to: a file that deployed, one that failed, a batch's counts.

Plain records, shared by the deployer, its per-file jobs and its status report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from portway.hotdeploy.loader import LoadedFile
from portway.registry import Deployed, is_async_handle

NO_SERVICE = (
    "no Service subclass found; define `class X(Service)` with a handle() method "
    "(a helper module is fine when a service file imports it, or name it _x.py)"
)


@dataclass(frozen=True)
class DeployFailure:
    """The last failed deploy of a file; the previous version (if any) stays live."""

    path: str
    line: int | None
    error: str
    at: float
    kind: str = "error"  # "error", "timeout" (not retried with its neighbours) or "clash"


class FileState(NamedTuple):
    """A file that deployed: what it is made of now."""

    path: str
    digest: bytes
    version: str
    services: tuple[str, ...]
    helpers: frozenset[str]
    deployed_at: float


@dataclass
class BatchReport:
    """Counts and timings of one batch, logged as one event."""

    files: int = 0
    deployed: int = 0
    services: int = 0
    failed: int = 0
    undeployed: int = 0
    unchanged: int = 0
    compiled: int = 0
    ms: float = 0.0


class Ready(NamedTuple):
    """A file that ran, with its registry entries and state made on the import thread.

    Made there, right after the file ran, while its classes are still in the CPU's cache:
    a later pass over thousands of files costs more than the work itself.
    """

    file: LoadedFile
    deployed: list[Deployed]
    state: FileState | None  # None: no services (a helper module, or a mistake)


def ready(loaded: LoadedFile, now: float) -> Ready:
    """The registry entries and state of a file that ran, deployed at ``now``."""
    if not loaded.services:
        return tuple.__new__(Ready, (loaded, [], None))
    path, version = loaded.path, loaded.version
    # Deployed.of, inlined (a call per service counts at boot); one service per file is the rule.
    if len(loaded.services) == 1:
        cls = loaded.services[0]
        name = cls.name
        deployed = [tuple.__new__(Deployed, (name, cls, path, version, now, is_async_handle(cls.handle)))]
        names: tuple[str, ...] = (name,)
    else:
        deployed = [
            tuple.__new__(Deployed, (cls.name, cls, path, version, now, is_async_handle(cls.handle)))
            for cls in loaded.services
        ]
        names = tuple([d.name for d in deployed])
    # tuple.__new__: a NamedTuple's generated __new__ is a Python call, per file.
    state = tuple.__new__(FileState, (path, loaded.digest, version, names, loaded.helpers, now))
    return tuple.__new__(Ready, (loaded, deployed, state))


class Missing:
    """The outcome of a file that is gone (it is undeployed)."""


MISSING = Missing()
UNCHANGED = object()  # the outcome of a file whose bytes are those of its live version
