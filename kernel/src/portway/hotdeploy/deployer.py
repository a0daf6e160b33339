"""Deploy every service file of the pickup folders into the registry, and keep score."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from portway.errors import DeployError
from portway.hotdeploy.loader import compile_source, load_services
from portway.registry import Registry

log = structlog.get_logger("portway.hotdeploy")


@dataclass(frozen=True)
class DeployFailure:
    """The last failed deploy of a file; the previous version stays live."""

    path: str
    line: int | None
    error: str
    at: float


class Deployer:
    """Loads service files into a registry; remembers failures per file."""

    def __init__(self, registry: Registry, dirs: list[Path]) -> None:
        self.registry = registry
        self.dirs = dirs
        self.failures: dict[str, DeployFailure] = {}

    def deploy_all(self) -> int:
        """Deploy every ``*.py`` under the pickup folders; return services deployed."""
        started = time.perf_counter()
        count = 0
        files = 0
        for folder in self.dirs:
            for path in sorted(folder.rglob("*.py")) if folder.is_dir() else ():
                files += 1
                count += self.deploy(path)
        log.info(
            "boot_deployed",
            files=files,
            services=count,
            failed=len(self.failures),
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return count

    def deploy(self, path: Path) -> int:
        """Deploy one file; on failure keep what was live and record why."""
        key = str(path)
        try:
            source = path.read_bytes()
            services = load_services(path, source, compile_source(path, source))
            self.registry.replace_source(key, services)
        except DeployError as exc:
            self._fail(exc)
            return 0
        except OSError as exc:
            self._fail(DeployError(key, None, f"cannot read: {exc.strerror}"))
            return 0
        self.failures.pop(key, None)
        log.info("deployed", path=key, services=[s.name for s in services])
        return len(services)

    def undeploy(self, path: Path) -> None:
        names = self.registry.remove_source(str(path))
        self.failures.pop(str(path), None)
        if names:
            log.info("undeployed", path=str(path), services=list(names))

    def _fail(self, exc: DeployError) -> None:
        self.failures[exc.path] = DeployFailure(exc.path, exc.line, exc.problem, time.time())
        log.error("deploy_failed", path=exc.path, line=exc.line, error=exc.problem)
