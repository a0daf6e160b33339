"""A server's own copy of the service code published to the store, which it deploys like a pickup folder.

The store holds the truth (:mod:`portway.codestore`); each server writes the
published files under ``ENV/cache/published/`` and records what it wrote
(path -> SHA-256, and the code revision) in ``ENV/cache/published.json``.
:meth:`StoreMirror.sync` compares the store's manifest with that record,
fetches only the files that differ, writes each atomically (temporary file,
then rename) and removes files no longer published; the deployer then
deploys the paths it returns. The bytecode cache stays per server, keyed by
content hash as for any pickup folder, so a cluster boot of unchanged files
compiles nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import structlog

from portway.codestore import CodeStore, digest_of
from portway.publishing import path_problem

log = structlog.get_logger("portway.cluster")


class StoreMirror:
    """Keeps ``folder`` equal to the files published in ``codes``."""

    def __init__(self, codes: CodeStore, folder: Path, record: Path) -> None:
        self.codes = codes
        self.folder = folder
        self._record = record
        self.revision, self.digests = self._read_record()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        missing = [p for p in self.digests if not (folder / p).is_file()]
        if missing:  # removed by hand: fetched again
            self.revision = -1
            for path in missing:
                del self.digests[path]

    def sync(self) -> list[str]:
        """Bring the folder to the store's code revision; return the absolute paths that changed."""
        if self.codes.revision() == self.revision:  # one small read on every config notification
            return []
        revision, manifest = self.codes.manifest()
        stale = [p for p, f in manifest.items() if self.digests.get(p) != f.digest]
        gone = [p for p in self.digests if p not in manifest]
        fetched = self.codes.contents(stale)
        changed: list[str] = []
        for path, content in fetched.items():
            if path_problem(path):  # written by something else than publish(): never leave the folder
                log.warning("published_path_refused", path=path, error=path_problem(path))
                continue
            self._write(path, content)
            self.digests[path] = digest_of(content)
            changed.append(str(self.folder / path))
        for path in gone:
            self.digests.pop(path, None)
            with contextlib.suppress(FileNotFoundError):
                (self.folder / path).unlink()
            changed.append(str(self.folder / path))
        self.revision = revision
        self._write_record()
        if changed:
            log.info("published_code_synced", revision=revision, files=len(fetched), removed=len(gone))
        return changed

    def relative(self, path: str) -> str | None:
        """A deployed path as published (relative), or None when it is not from the store."""
        prefix = str(self.folder) + os.sep
        return path[len(prefix) :] if path.startswith(prefix) else None

    def _write(self, path: str, content: bytes) -> None:
        target = self.folder / path
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A name the watcher and the scanner skip, then one rename: never half a file deployed.
        part = target.with_name(f".{target.name}.portway-part")
        part.write_bytes(content)
        os.replace(part, target)

    def _read_record(self) -> tuple[int, dict[str, str]]:
        try:
            data = json.loads(self._record.read_text())
            return int(data["revision"]), {str(k): str(v) for k, v in data["files"].items()}
        except FileNotFoundError:
            return -1, {}
        except (ValueError, KeyError, TypeError, OSError) as exc:  # rebuilt from the store, file by file
            log.warning("published_record_unreadable", path=str(self._record), error=str(exc))
            return -1, {}

    def _write_record(self) -> None:
        part = self._record.with_name(self._record.name + ".part")
        part.write_text(json.dumps({"revision": self.revision, "files": self.digests}))
        os.replace(part, self._record)
