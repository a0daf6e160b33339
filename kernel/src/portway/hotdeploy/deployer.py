"""Deploy service files into the registry, batch by batch, and keep score for ``portway deploy``.

A batch is a set of paths that changed (every file at boot, a few on each
save). Each file is all-or-nothing: a file that fails to deploy keeps its
previous version live and is reported with file, line and error. Files are
run on an :class:`~portway.hotdeploy.worker.ImportWorker` so one that never
finishes importing is cut off after ``import_timeout_s``; a server also keeps
an :class:`~portway.hotdeploy.trail.ImportTrail` so that a file that ends
the whole process at import is named afterwards.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from portway.errors import DeployError
from portway.hotdeploy.cache import BytecodeCache
from portway.hotdeploy.frozen import FrozenHeap
from portway.hotdeploy.jobs import Jobs
from portway.hotdeploy.ledger import Ledger
from portway.hotdeploy.listing import Scanner, is_service_path, scan
from portway.hotdeploy.loader import Loader, module_name_for
from portway.hotdeploy.outcomes import MISSING, NO_SERVICE, UNCHANGED, BatchReport, Ready
from portway.hotdeploy.status import describe, iso
from portway.hotdeploy.trail import ImportTrail, last_import
from portway.hotdeploy.worker import ImportWorker, TimedOut
from portway.registry import Deployed, Registry

log = structlog.get_logger("portway.hotdeploy")


class Deployer:
    """Loads service files into a registry; remembers what deployed, what failed and why."""

    def __init__(
        self,
        registry: Registry,
        dirs: list[Path],
        *,
        cache_dir: Path | None = None,
        import_timeout_s: float = 5.0,
        max_file_bytes: int = 1 << 20,
    ) -> None:
        self.registry = registry
        self.dirs = dirs
        self.cache = BytecodeCache(cache_dir)
        self.loader = Loader(self.cache, max_file_bytes)
        self.worker = ImportWorker(import_timeout_s)
        self.heap = FrozenHeap()
        registry.on_release = self.heap.released
        self.trail: ImportTrail | None = None
        self.ledger = Ledger()
        self.failures = self.ledger.failures
        self.jobs = Jobs(self.cache, self.loader, self.ledger)
        self.last_boot: dict[str, Any] = {}
        self.last_batch: dict[str, Any] = {}
        self.files_deployed = 0  # since start, boot included: files whose services went live
        self.files_failed = 0  # since start: files that failed to deploy
        self.watcher: Any = None  # set by start_watching
        self._lock = threading.RLock()

    # --- public API ---

    def deploy_all(self) -> int:
        """Deploy every service file of the pickup folders (a boot); return services deployed."""
        started = time.perf_counter()
        # No cycles to find while the pack's thousands of code objects are unmarshalled and
        # thousands of class objects are made (collections would more than double the boot);
        # freeze them afterwards so later collections skip them.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            cached = self.cache.load()
            read_ms = (time.perf_counter() - started) * 1000
            paths: list[str] = []
            scanner = Scanner(self.cache.listings)
            for folder in self.dirs:
                if not folder.is_dir():
                    log.warning("pickup_folder_missing", path=str(folder))
                    continue
                paths.extend(scanner.scan(folder))
            if scanner.changed:
                self.cache.set_listings(scanner.listings)
            report = self._deploy(paths, boot=True)
        finally:
            if was_enabled:
                gc.enable()
        self.heap.freeze()
        self.cache.save(self._known())
        self.last_boot = {
            "files": report.files,
            "services": report.services,
            "failed": report.failed,
            "compiled": report.compiled,
            "from_cache": report.files - report.compiled - report.failed,
            "cache_entries_read": cached,
            "not_read": self.cache.stat_hits,  # stat signature matched the pack's
            "folders_not_listed": scanner.reused,  # folder unchanged since its recorded listing
            "cache_read_ms": round(read_ms, 2),
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "at": time.time(),
        }
        log.info("boot_deployed", **{k: v for k, v in self.last_boot.items() if k != "at"})
        return report.services

    def deploy_paths(self, paths: Iterable[str]) -> BatchReport:
        """Deploy changed files or folders (deleted ones undeploy); return what happened."""
        with self._lock:
            report = self._deploy(self._expand(paths), boot=False)
            clashed = [p for p, f in self.failures.items() if f.kind == "clash"]
            if report.undeployed and clashed:
                # A service moved between files: its old file went after the new one tried.
                again = self._deploy(clashed, boot=False)
                report.deployed += again.deployed
                report.services += again.services
                report.failed = max(0, report.failed - len(clashed)) + again.failed
                report.compiled += again.compiled
                report.ms += again.ms
        if report.files:
            log.info(
                "deployed",
                files=report.files,
                deployed=report.deployed,
                services=report.services,
                undeployed=report.undeployed,
                unchanged=report.unchanged,
                failed=report.failed,
                compiled=report.compiled,
                ms=report.ms,
            )
        return report

    def deploy(self, path: Path) -> int:
        """Deploy one file now; return how many services it has live."""
        self.deploy_paths([str(path)])
        state = self.ledger.files.get(str(path))
        return len(state.services) if state else 0

    def undeploy(self, path: Path) -> None:
        with self._lock:
            self._undeploy(str(path), BatchReport())

    def rollback(self, name: str) -> Deployed:
        """Put the version deployed before the live one of service ``name`` back live."""
        with self._lock:
            previous = self.registry.rollback(name)
            files = self.ledger.files
            state = files.get(previous.source)
            if state is not None:  # the next save of the file deploys it, even unchanged bytes
                files[previous.source] = state._replace(digest=b"")
        log.info("rolled_back", service=name, version=previous.version, path=previous.source)
        return previous

    def keep_trail(self, path: Path) -> str | None:
        """Record each file being imported in ``path`` (see :mod:`~portway.hotdeploy.trail`).

        Returns the file an earlier process was importing when it died, if its trail says so.
        """
        died_in = last_import(path)
        if died_in is not None:
            log.warning("last_run_died_importing", path=died_in)
        self.trail = ImportTrail(path)
        return died_in

    def save_cache(self) -> bool:
        return self.cache.save(self._known())

    def close(self) -> None:
        """Stop watching, write the bytecode cache, let the import thread go."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self.save_cache()
        self.worker.close()

    def start_watching(self, debounce_s: float = 0.005) -> None:
        # Imported here: the CLI deploys without watching and need not load watchdog.
        from portway.hotdeploy.watcher import Watcher

        if self.watcher is None:
            self.watcher = Watcher(
                [d for d in self.dirs if d.is_dir()],
                deploy=self._deploy_watched,
                when_idle=self._idle,
                debounce_s=debounce_s,
            )
            self.watcher.start()

    def status(self) -> dict[str, Any]:
        """Deployed services, failed files, helper modules and the last boot/batch, as JSON-able data."""
        return describe(
            self.registry,
            self.ledger,
            dirs=self.dirs,
            watching=self.watcher is not None,
            abandoned_imports=self.worker.abandoned,
            last_boot=self.last_boot,
            last_batch=self.last_batch,
        )

    # --- one batch ---

    def _deploy_watched(self, paths: list[str]) -> bool:
        """A batch from the watcher; True when there is work for the next idle moment."""
        return self.deploy_paths(paths).compiled > 0 or self.heap.stale

    def _idle(self) -> None:
        self.save_cache()
        self.heap.collect()

    def _expand(self, paths: Iterable[str]) -> list[str]:
        """Folders become the files in and under them; helpers bring the files that import them."""
        wanted: set[str] = set()
        for raw in paths:
            path = os.path.abspath(raw)
            if os.path.isdir(path) and not os.path.islink(path):
                wanted.update(scan(Path(path)))
                wanted.update(self.ledger.known_under(path))
            elif is_service_path(path):
                wanted.add(path)
            else:
                wanted.update(self.ledger.known_under(path))  # a folder that was deleted or moved away
        return sorted(wanted)

    def _deploy(self, paths: list[str], *, boot: bool) -> BatchReport:
        with self._lock:
            started = time.perf_counter()
            report = BatchReport()
            ledger = self.ledger
            forced = (ledger.users_of(paths) if ledger.files else set()) | (
                ledger.failed_beside(paths) if ledger.failures else set()
            )
            self.loader.forget(paths)
            self.loader.new_batch()
            # A boot's paths come sorted, folder by folder: no need to sort thousands again.
            todo = list(dict.fromkeys(paths)) if boot and not forced else sorted(set(paths) | forced)
            compiled_before = self.loader.compiled
            now = time.time()  # the batch's deploy time, for every file in it
            progress = self.trail.begin(todo) if self.trail is not None else None
            if boot:
                self.jobs.boot_now = now
                outcomes = self.worker.map(self.jobs.boot, todo, progress)
            else:
                # Named before they run: a file that ends the process at import is in the log.
                log.info("deploying", paths=todo if len(todo) <= 20 else [*todo[:20], f"+{len(todo) - 20}"])
                jobs = [partial(self.jobs.load, p, p in forced, now) for p in todo]
                outcomes = self.worker.run(jobs, progress)
            if self.trail is not None:
                self.trail.end()
            report.files = len(todo)
            self._apply(todo, outcomes, report)
            report.compiled = self.loader.compiled - compiled_before
            report.ms = round((time.perf_counter() - started) * 1000, 2)
            self.files_deployed += report.deployed
            self.files_failed += report.failed
            self.last_batch = {
                "files": report.files,
                "deployed": report.deployed,
                "services": report.services,
                "failed": report.failed,
                "undeployed": report.undeployed,
                "unchanged": report.unchanged,
                "compiled": report.compiled,
                "ms": report.ms,
                "at": iso(time.time()),
            }
            return report

    def _apply(self, todo: list[str], outcomes: list[object], report: BatchReport) -> None:
        """Apply a batch's outcomes: failures recorded, gone files undeployed, the rest swapped in."""
        changes: dict[str, list[Deployed] | None] = {}
        loaded: dict[str, Ready] = {}
        ledger = self.ledger
        for path, outcome in zip(todo, outcomes, strict=True):
            if type(outcome) is Ready:
                if outcome.deployed:
                    changes[path] = outcome.deployed
                loaded[path] = outcome
            elif outcome is UNCHANGED:
                report.unchanged += 1
            elif outcome is MISSING:
                self._undeploy(path, report)
            elif isinstance(outcome, TimedOut):
                ledger.fail(
                    DeployError(
                        path,
                        None,
                        f"import did not finish within {outcome.seconds:g} s (an endless loop at the "
                        "top level?); the previous version stays live. Raise [hotdeploy] "
                        "import_timeout_s if the file really needs longer",
                    ),
                    report,
                    kind="timeout",
                )
            elif isinstance(outcome, DeployError):
                ledger.fail(outcome, report)
        clashes = self.registry.apply(changes)
        failures, helpers, files = ledger.failures, ledger.helpers, ledger.files
        deployed = services = 0
        for path, (outcome, _, state) in loaded.items():
            if clashes and path in clashes:
                ledger.fail(clashes[path], report, kind="clash")
                continue
            if failures:
                failures.pop(path, None)
            if state is None:
                if path in files:  # had services, has none now: a mistake, keep them live
                    ledger.fail(DeployError(path, None, NO_SERVICE), report)
                    continue
                helpers[path] = outcome.digest  # judged below, once all imports are known
                continue
            if helpers:
                helpers.pop(path, None)
            files[path] = state
            deployed += 1
            services += len(state.services)
        report.deployed += deployed
        report.services += services
        ledger.judge_helpers(report)

    def _undeploy(self, path: str, report: BatchReport) -> None:
        self.ledger.forget(path)
        sys.modules.pop(module_name_for(path), None)
        names = self.registry.remove_source(path)
        if names:
            report.undeployed += 1
            log.info("undeployed", path=path, services=list(names))

    def _known(self) -> set[str]:
        return self.ledger.known() | self.loader.helper_paths()
