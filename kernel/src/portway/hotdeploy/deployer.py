"""Deploy service files into the registry, batch by batch, and keep score for ``portway deploy``.

A batch is a set of paths that changed (every file at boot, a few on each
save). Each file is all-or-nothing: a file that fails to deploy keeps its
previous version live and is reported with file, line and error. Files are
run on an :class:`~portway.hotdeploy.worker.ImportWorker` so one that never
finishes importing is cut off after ``import_timeout_s``.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import structlog

from portway.errors import DeployError
from portway.hotdeploy.cache import BytecodeCache, digest_of, signature
from portway.hotdeploy.listing import Scanner, is_service_path, scan
from portway.hotdeploy.loader import LoadedFile, Loader, module_name_for, read_source
from portway.hotdeploy.worker import ImportWorker, TimedOut
from portway.registry import Deployed, Registry, is_async_handle

log = structlog.get_logger("portway.hotdeploy")


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


class _Ready(NamedTuple):
    """A file that ran, with its registry entries and state made on the import thread.

    Made there, right after the file ran, while its classes are still in the CPU's cache:
    a later pass over thousands of files costs more than the work itself.
    """

    file: LoadedFile
    deployed: list[Deployed]
    state: FileState | None  # None: no services (a helper module, or a mistake)


def _ready(loaded: LoadedFile, now: float) -> _Ready:
    if not loaded.services:
        return tuple.__new__(_Ready, (loaded, [], None))
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
    return tuple.__new__(_Ready, (loaded, deployed, state))


class _Missing:
    """The file is gone."""


_MISSING = _Missing()
NO_SERVICE = (
    "no Service subclass found; define `class X(Service)` with a handle() method "
    "(a helper module is fine when a service file imports it, or name it _x.py)"
)
_UNCHANGED = object()


class Deployer:
    """Loads service files into a registry; remembers what deployed, what failed and why."""

    def __init__(
        self,
        registry: Registry,
        dirs: list[Path],
        *,
        cache_dir: Path | None = None,
        import_timeout_s: float = 5.0,
    ) -> None:
        self.registry = registry
        self.dirs = dirs
        self.cache = BytecodeCache(cache_dir)
        self.loader = Loader(self.cache)
        self.worker = ImportWorker(import_timeout_s)
        self.files: dict[str, FileState] = {}
        self.failures: dict[str, DeployFailure] = {}
        self.helpers: dict[str, bytes] = {}  # files that ran fine but define no service
        self._orphans: set[str] = set()  # of those, the ones no service file imports: reported
        self.last_boot: dict[str, Any] = {}
        self.last_batch: dict[str, Any] = {}
        self.watcher: Any = None  # set by start_watching
        self._boot_now = 0.0  # the deploy time of the boot batch
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
        gc.freeze()
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
        state = self.files.get(str(path))
        return len(state.services) if state else 0

    def undeploy(self, path: Path) -> None:
        with self._lock:
            self._undeploy(str(path), BatchReport())

    def rollback(self, name: str) -> Deployed:
        """Put the version deployed before the live one of service ``name`` back live."""
        with self._lock:
            previous = self.registry.rollback(name)
            state = self.files.get(previous.source)
            if state is not None:  # the next save of the file deploys it, even unchanged bytes
                self.files[previous.source] = state._replace(digest=b"")
        log.info("rolled_back", service=name, version=previous.version, path=previous.source)
        return previous

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
        from portway.hotdeploy.watcher import Watcher

        if self.watcher is None:
            self.watcher = Watcher(self, [d for d in self.dirs if d.is_dir()], debounce_s=debounce_s)
            self.watcher.start()

    def status(self) -> dict[str, Any]:
        """Deployed services, failed files, helper modules and the last boot/batch, as JSON-able data."""
        files = dict(self.files)
        services = []
        for deployed in self.registry.all():
            state = files.get(deployed.source)
            services.append(
                {
                    "name": deployed.name,
                    "source": deployed.source,
                    "version": deployed.version,
                    "deployed_at": _iso(deployed.deployed_at),
                    "async": deployed.is_async,
                    # live version differs from the file's: someone rolled back
                    "rolled_back": state is not None and state.version != deployed.version,
                }
            )
        users: dict[str, list[str]] = {}
        for state in files.values():
            for helper in state.helpers:
                users.setdefault(helper, []).append(state.path)
        return {
            "dirs": [str(d) for d in self.dirs],
            "watching": self.watcher is not None,
            "services": services,
            "failures": [
                {"path": f.path, "line": f.line, "error": f.error, "at": _iso(f.at)}
                for f in sorted(self.failures.values(), key=lambda f: f.path)
            ],
            "helpers": [{"path": p, "used_by": sorted(u)} for p, u in sorted(users.items())],
            "abandoned_imports": self.worker.abandoned,
            "boot": {**self.last_boot, "at": _iso(self.last_boot["at"])} if self.last_boot else None,
            "last_batch": self.last_batch or None,
        }

    # --- one batch ---

    def _expand(self, paths: Iterable[str]) -> list[str]:
        """Folders become the files in and under them; helpers bring the files that import them."""
        wanted: set[str] = set()
        for raw in paths:
            path = os.path.abspath(raw)
            if os.path.isdir(path) and not os.path.islink(path):
                wanted.update(scan(Path(path)))
                wanted.update(self._known_under(path))
            elif is_service_path(path):
                wanted.add(path)
            else:
                wanted.update(self._known_under(path))  # a folder that was deleted or moved away
        return sorted(wanted)

    def _known_under(self, folder: str) -> set[str]:
        prefix = folder.rstrip(os.sep) + os.sep
        known = set(self.files) | set(self.failures) | set(self.helpers)
        return {p for p in known if p.startswith(prefix)}

    def _deploy(self, paths: list[str], *, boot: bool) -> BatchReport:
        with self._lock:
            started = time.perf_counter()
            report = BatchReport()
            forced = (self._users_of(paths) if self.files else set()) | (
                self._failed_beside(paths) if self.failures else set()
            )
            self.loader.forget(paths)
            self.loader.new_batch()
            # A boot's paths come sorted, folder by folder: no need to sort thousands again.
            todo = list(dict.fromkeys(paths)) if boot and not forced else sorted(set(paths) | forced)
            compiled_before = self.loader.compiled
            now = time.time()  # the batch's deploy time, for every file in it
            if boot:
                self._boot_now = now
                outcomes = self.worker.map(self._boot_load, todo)
            else:
                outcomes = self.worker.run([partial(self._load, p, p in forced, now) for p in todo])
            changes: dict[str, list[Deployed] | None] = {}
            loaded: dict[str, _Ready] = {}
            report.files = len(todo)
            for path, outcome in zip(todo, outcomes, strict=True):
                if type(outcome) is _Ready:
                    if outcome.deployed:
                        changes[path] = outcome.deployed
                    loaded[path] = outcome
                elif outcome is _UNCHANGED:
                    report.unchanged += 1
                elif outcome is _MISSING:
                    self._undeploy(path, report)
                elif isinstance(outcome, TimedOut):
                    self._fail(
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
                    self._fail(outcome, report)
            clashes = self.registry.apply(changes)
            failures, helpers, files = self.failures, self.helpers, self.files
            deployed = services = 0
            for path, (outcome, _, state) in loaded.items():
                if clashes and path in clashes:
                    self._fail(clashes[path], report, kind="clash")
                    continue
                if failures:
                    failures.pop(path, None)
                if state is None:
                    if path in self.files:  # had services, has none now: a mistake, keep them live
                        self._fail(DeployError(path, None, NO_SERVICE), report)
                        continue
                    self.helpers[path] = outcome.digest  # judged below, once all imports are known
                    continue
                if helpers:
                    helpers.pop(path, None)
                files[path] = state
                deployed += 1
                services += len(state.services)
            report.deployed += deployed
            report.services += services
            self._judge_helpers(report)
            report.compiled = self.loader.compiled - compiled_before
            report.ms = round((time.perf_counter() - started) * 1000, 2)
            self.last_batch = {
                "files": report.files,
                "deployed": report.deployed,
                "services": report.services,
                "failed": report.failed,
                "undeployed": report.undeployed,
                "unchanged": report.unchanged,
                "compiled": report.compiled,
                "ms": report.ms,
                "at": _iso(time.time()),
            }
            return report

    def _boot_load(self, path: str) -> object:
        """One boot job: a file whose stat signature is the recorded one is not even read."""
        now = self._boot_now
        known = self.cache.by_stat(path)
        if known is not None:
            try:
                return _ready(self.loader.run(path, known[0], known[1], False, known[3]), now)
            except DeployError as exc:
                return exc
            except Exception as exc:  # a bug of ours must not stop the batch: report it on the file
                log.exception("deploy_crashed", path=path)
                return DeployError(path, None, f"internal error while deploying: {type(exc).__name__}: {exc}")
        return self._load(path, True, now)

    def _load(self, path: str, force: bool, now: float) -> object:
        """One job on the import thread; never raises (outcomes are values)."""
        try:
            stat: list[os.stat_result] = []
            started_ns = time.time_ns()
            try:
                source = read_source(path, stat)
            except FileNotFoundError:
                if os.path.islink(path):
                    return DeployError(path, None, "symlink points to a missing file; fix or remove the link")
                return _MISSING
            digest = digest_of(source)
            if not force and path not in self.failures:
                state = self.files.get(path)
                if (state is not None and state.digest == digest) or self.helpers.get(path) == digest:
                    return _UNCHANGED
            loaded = self.loader.load(path, source, digest)
            self.cache.sign(path, digest, signature(stat[0], started_ns))
            return _ready(loaded, now)
        except DeployError as exc:
            return exc
        except Exception as exc:  # a bug of ours must not stop the batch: report it on the file
            log.exception("deploy_crashed", path=path)
            return DeployError(path, None, f"internal error while deploying: {type(exc).__name__}: {exc}")

    def _users_of(self, paths: Iterable[str]) -> set[str]:
        """Deployed files that imported any of ``paths`` (directly or through another helper)."""
        changed = set(paths)
        return {p for p, state in self.files.items() if state.helpers & changed and p not in changed}

    def _failed_beside(self, paths: Iterable[str]) -> set[str]:
        """Failed files in the folders of ``paths``: a change there (a helper fixed) may mend them.

        Files that timed out are not retried on a neighbour's change; only their own.
        """
        folders = {os.path.dirname(p) for p in paths}
        return {p for p, f in self.failures.items() if f.kind != "timeout" and os.path.dirname(p) in folders}

    def _judge_helpers(self, report: BatchReport) -> None:
        """A file without services is fine when a service file imports it (or its name starts with _)."""
        used = {h for state in self.files.values() for h in state.helpers}
        for path in list(self.helpers):
            orphan = path not in used and not os.path.basename(path).startswith("_")
            if orphan and path not in self._orphans:
                self._fail(
                    DeployError(path, None, NO_SERVICE),
                    report,
                )
                self._orphans.add(path)
            elif not orphan and path in self._orphans:
                self._orphans.discard(path)
                self.failures.pop(path, None)

    def _undeploy(self, path: str, report: BatchReport) -> None:
        self.failures.pop(path, None)
        self.helpers.pop(path, None)
        self._orphans.discard(path)
        sys.modules.pop(module_name_for(path), None)
        self.files.pop(path, None)
        names = self.registry.remove_source(path)
        if names:
            report.undeployed += 1
            log.info("undeployed", path=path, services=list(names))

    def _fail(self, exc: DeployError, report: BatchReport, *, kind: str = "error") -> None:
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

    def _known(self) -> set[str]:
        return set(self.files) | set(self.helpers) | self.loader.helper_paths()


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
