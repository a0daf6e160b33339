"""One file's deploy job, as it runs on the import thread: read, hash, compile or take from cache, run.

A job never raises: its outcome is a value (:class:`~portway.hotdeploy.outcomes.Ready`,
``UNCHANGED``, ``MISSING`` or a :class:`~portway.errors.DeployError`), so one
file can never stop a batch.
"""

from __future__ import annotations

import os
import time

import structlog

from portway.errors import DeployError
from portway.hotdeploy.cache import BytecodeCache, digest_of, signature
from portway.hotdeploy.ledger import Ledger
from portway.hotdeploy.loader import Loader
from portway.hotdeploy.outcomes import MISSING, UNCHANGED, ready
from portway.hotdeploy.sources import read_source, too_big

log = structlog.get_logger("portway.hotdeploy")


class Jobs:
    """The per-file work of a batch, over the deployer's cache, loader and ledger."""

    def __init__(self, cache: BytecodeCache, loader: Loader, ledger: Ledger) -> None:
        self.cache = cache
        self.loader = loader
        self.ledger = ledger
        self.boot_now = 0.0  # the deploy time of the boot batch

    def boot(self, path: str) -> object:
        """One boot job: a file whose stat signature is the recorded one is not even read."""
        now = self.boot_now
        known = self.cache.by_stat(path)
        if known is not None:
            size = known[2][1] if known[2] is not None else 0  # as stat'ed just now
            if size > self.loader.max_file_bytes:  # cached before the limit was lowered
                return too_big(path, size, self.loader.max_file_bytes)
            try:
                return ready(self.loader.run(path, known[0], known[1], False, known[3]), now)
            except DeployError as exc:
                return exc
            except Exception as exc:  # a bug of ours must not stop the batch: report it on the file
                return _crashed(path, exc)
        return self.load(path, True, now)

    def load(self, path: str, force: bool, now: float) -> object:
        """One job: deploy ``path`` (unless its bytes are the live version's and not ``force``)."""
        try:
            stat: list[os.stat_result] = []
            started_ns = time.time_ns()
            try:
                source = read_source(path, stat, self.loader.max_file_bytes)
            except FileNotFoundError:
                if os.path.islink(path):
                    return DeployError(path, None, "symlink points to a missing file; fix or remove the link")
                return MISSING
            digest = digest_of(source)
            ledger = self.ledger
            if not force and path not in ledger.failures:
                state = ledger.files.get(path)
                if (state is not None and state.digest == digest) or ledger.helpers.get(path) == digest:
                    return UNCHANGED
            loaded = self.loader.load(path, source, digest)
            self.cache.sign(path, digest, signature(stat[0], started_ns))
            return ready(loaded, now)
        except DeployError as exc:
            return exc
        except Exception as exc:  # a bug of ours must not stop the batch: report it on the file
            return _crashed(path, exc)


def _crashed(path: str, exc: Exception) -> DeployError:
    log.exception("deploy_crashed", path=path)
    return DeployError(path, None, f"internal error while deploying: {type(exc).__name__}: {exc}")
