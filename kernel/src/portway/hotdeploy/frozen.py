"""The boot's ``gc.freeze()``, undone and redone when a frozen version of a service is let go.

After the boot deploy, everything loaded is frozen: collections skip it, so
thousands of service classes cost nothing at each collection. But a class
and its module's globals hold each other (methods point at the globals,
the globals at the class), so only the cycle collector frees an old
version, and it never looks at frozen objects: a file deployed at boot and
then saved twice would keep its boot version, and whatever that held, for
good. So when the registry lets go of a version deployed before the last
freeze, the next idle moment unfreezes, collects and freezes again.
"""

from __future__ import annotations

import gc
import time

import structlog

from portway.registry import Deployed

log = structlog.get_logger("portway.hotdeploy")


class FrozenHeap:
    """Tracks whether released versions sit in the frozen generation; collects them when asked."""

    def __init__(self) -> None:
        self._frozen_at: float | None = None
        self.stale = False  # a version deployed before the last freeze was released

    def freeze(self) -> None:
        """Move everything alive now out of the collector's way (see the module docstring)."""
        gc.freeze()
        self._frozen_at = time.time()

    def released(self, version: Deployed) -> None:
        """The registry dropped ``version``: note whether only an unfreeze can free it."""
        if self._frozen_at is not None and version.deployed_at <= self._frozen_at:
            self.stale = True

    def collect(self) -> bool:
        """When a frozen version was released: unfreeze, collect, freeze again. Return whether it did."""
        if not self.stale:
            return False
        self.stale = False
        started = time.perf_counter()
        gc.unfreeze()
        freed = gc.collect()
        self.freeze()
        ms = round((time.perf_counter() - started) * 1000, 2)
        log.debug("released_versions_collected", objects=freed, ms=ms)
        return True
