"""What the deployer knows of every file: deployed, failed (and why), or a helper module.

A file is in at most one of :attr:`Ledger.files` (it deployed services),
:attr:`Ledger.helpers` (it ran fine but defines no service) and, beside
either, :attr:`Ledger.failures` (its last deploy failed; a deployed version
stays live).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

import structlog

from portway.errors import DeployError
from portway.hotdeploy.outcomes import NO_SERVICE, BatchReport, DeployFailure, FileState

log = structlog.get_logger("portway.hotdeploy")


class Ledger:
    """Deployed files, failed files and helper modules, with the questions a batch asks of them."""

    def __init__(self) -> None:
        self.files: dict[str, FileState] = {}
        self.failures: dict[str, DeployFailure] = {}
        self.helpers: dict[str, bytes] = {}  # files that ran fine but define no service, by digest
        self._orphans: set[str] = set()  # of those, the ones no service file imports: reported

    def known(self) -> set[str]:
        """Every file deployed or kept as a helper."""
        return set(self.files) | set(self.helpers)

    def known_under(self, folder: str) -> set[str]:
        """Every file recorded in or under ``folder``."""
        prefix = folder.rstrip(os.sep) + os.sep
        known = set(self.files) | set(self.failures) | set(self.helpers)
        return {p for p in known if p.startswith(prefix)}

    def users_of(self, paths: Iterable[str]) -> set[str]:
        """Deployed files that imported any of ``paths`` (directly or through another helper)."""
        changed = set(paths)
        return {p for p, state in self.files.items() if state.helpers & changed and p not in changed}

    def failed_beside(self, paths: Iterable[str]) -> set[str]:
        """Failed files in the folders of ``paths``: a change there (a helper fixed) may mend them.

        Files that timed out are not retried on a neighbour's change; only their own.
        """
        folders = {os.path.dirname(p) for p in paths}
        return {p for p, f in self.failures.items() if f.kind != "timeout" and os.path.dirname(p) in folders}

    def fail(self, exc: DeployError, report: BatchReport, *, kind: str = "error") -> None:
        """Record and log a failed deploy; the file's live version (if any) stays."""
        report.failed += 1
        self.failures[exc.path] = DeployFailure(exc.path, exc.line, exc.problem, time.time(), kind)
        self.helpers.pop(exc.path, None)
        self._orphans.discard(exc.path)
        live = self.files.get(exc.path)
        log.error(
            "deploy_failed",
            path=exc.path,
            line=exc.line,
            error=exc.problem,
            kept_live=list(live.services) if live else [],
        )

    def forget(self, path: str) -> None:
        """The file is gone: drop every record of it."""
        self.failures.pop(path, None)
        self.helpers.pop(path, None)
        self._orphans.discard(path)
        self.files.pop(path, None)

    def judge_helpers(self, report: BatchReport) -> None:
        """A file without services is fine when a service file imports it (or its name starts with _)."""
        used = {h for state in self.files.values() for h in state.helpers}
        for path in list(self.helpers):
            orphan = path not in used and not os.path.basename(path).startswith("_")
            if orphan and path not in self._orphans:
                self.fail(DeployError(path, None, NO_SERVICE), report)
                self._orphans.add(path)
            elif not orphan and path in self._orphans:
                self._orphans.discard(path)
                self.failures.pop(path, None)
