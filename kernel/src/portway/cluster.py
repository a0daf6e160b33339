"""One server's part in a cluster on a PostgreSQL store: published code in, heartbeat out.

What is shared through the store: connections, channels (as before), the
published service files (:mod:`portway.codestore`), leases and the
``servers`` table. What stays per server: its pickup folders (unless
``[hotdeploy] publish = true``), its bytecode cache, its logs. See
docs/cluster.md.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from portway.codestore import CodeStore
from portway.errors import NotFoundError
from portway.hotdeploy.mirror import StoreMirror
from portway.publishing import PublishReport, publish
from portway.servers import Heartbeat

if TYPE_CHECKING:
    from portway.database import Database
    from portway.environment import Environment
    from portway.hotdeploy.deployer import Deployer
    from portway.hotdeploy.folder_publisher import FolderPublisher

log = structlog.get_logger("portway.cluster")


class Cluster:
    """Published code kept deployed on this server, and its row in ``servers``."""

    def __init__(self, env: Environment, db: Database, server_id: str) -> None:
        self.env = env
        self.db = db
        self.server_id = server_id
        self.codes = CodeStore(db)
        self.mirror = StoreMirror(self.codes, env.cache_dir / "published", env.cache_dir / "published.json")
        self.folders: FolderPublisher | None = None
        if env.settings.hotdeploy.publish:
            from portway.hotdeploy.folder_publisher import FolderPublisher

            self.folders = FolderPublisher(
                env.pickup_dirs,
                lambda files, delete=(): self.publish(files, delete=delete, publisher=f"folder {server_id}"),
                env.settings.hotdeploy.max_file_bytes,
            )
        self.heartbeat: Heartbeat | None = None
        self.deployer: Deployer | None = None
        self._lock = threading.Lock()

    def pickup_dirs(self) -> list[Path]:
        """What this server deploys: its own folders (unless they publish) and the store's files."""
        own = [] if self.folders is not None else self.env.pickup_dirs
        return [*own, self.mirror.folder]

    def before_boot(self) -> None:
        """Publish the publishing folders' changes, then bring the local copy to the store's revision."""
        if self.folders is not None:
            self.folders.publish_all()
        self.mirror.sync()

    def start(self, deployer: Deployer, *, watch: bool) -> None:
        self.deployer = deployer
        if watch and self.folders is not None:
            self.folders.start_watching()

    def start_heartbeat(self) -> None:
        """Only a serving process beats: CLI commands that load a runtime are not servers."""
        self.heartbeat = Heartbeat(self.db, self.server_id, self.env.base_url, self.state)
        self.heartbeat.start()

    def sync(self) -> list[str]:
        """Deploy what was published since the last look; return the paths that changed."""
        with self._lock:
            changed = self.mirror.sync()
            if changed and self.deployer is not None:
                self.deployer.deploy_paths(changed)
        if changed and self.heartbeat is not None:
            self.heartbeat.beat()
        return changed

    def publish(
        self,
        files: dict[str, bytes],
        *,
        publisher: str,
        delete: tuple[str, ...] = (),
        delete_missing: bool = False,
    ) -> PublishReport:
        """Validate and publish (see :func:`portway.publishing.publish`), then deploy it here at once."""
        settings = self.env.settings.hotdeploy
        report = publish(
            self.codes,
            files,
            publisher=publisher,
            import_timeout_s=settings.import_timeout_s,
            max_file_bytes=settings.max_file_bytes,
            delete=delete,
            delete_missing=delete_missing,
        )
        self.sync()
        return report

    def rollback_source(self, source: str, publisher: str) -> PublishReport | None:
        """Republish the previous version of a published file; None when ``source`` is not published."""
        rel = self.mirror.relative(source)
        if rel is None:
            return None
        previous = self.codes.previous(rel)
        if previous is None:
            raise NotFoundError(
                "earlier published version of file", rel, "rollback needs a version before the live one"
            )
        log.info("cluster_rollback", path=rel, publisher=publisher)
        return self.publish({rel: previous}, publisher=publisher)

    def state(self) -> tuple[int, list[dict[str, Any]]]:
        """The code revision deployed here and the files that failed, for the ``servers`` row."""
        errors = []
        if self.deployer is not None:
            for path, failure in list(self.deployer.failures.items()):
                rel = self.mirror.relative(path)
                if rel is not None:
                    errors.append({"path": rel, "line": failure.line, "error": failure.error})
        if self.folders is not None:
            for path, error in list(self.folders.failures.items()):
                errors.append({"path": path, "line": error.line, "error": error.problem, "publish": True})
        return self.mirror.revision, errors

    def close(self) -> None:
        if self.folders is not None:
            self.folders.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
            self.heartbeat = None
