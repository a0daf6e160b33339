"""Publishing service files to the cluster's store: the one code path behind every way in.

``portway deploy push``, ``POST /admin/api/deploy/files``, the console's
upload form and a pickup folder with ``[hotdeploy] publish = true`` all
call :func:`publish`. It checks every path and size, deploys the changed
files on trial (:mod:`portway.hotdeploy.trial`: same import time limit,
same error report as hot-deploy), and only when all of them deploy writes
them in one transaction. A refused publish writes nothing, so a broken
file never reaches another server and the last good version stays live
everywhere.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portway.codestore import CodeStore, digest_of
from portway.errors import DeployError, PortwayError
from portway.hotdeploy.sources import too_big

MAX_PATH = 500


class PublishRefused(PortwayError):
    """Some files cannot be published; nothing was. ``errors`` names each file, line and problem."""

    def __init__(self, errors: list[DeployError]) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5]) + ("; ..." if len(errors) > 5 else "")
        super().__init__(f"{len(errors)} file(s) refused, nothing was published: {shown}")

    def as_json(self) -> list[dict[str, Any]]:
        return [{"path": e.path, "line": e.line, "error": e.problem} for e in self.errors]


@dataclass(frozen=True)
class PublishReport:
    """What a publish changed, by relative path."""

    revision: int
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a published file's path, or None when it can."""
    if not path or len(path) > MAX_PATH:
        return f"a path is 1 to {MAX_PATH} characters"
    if "\\" in path or "\x00" in path or any(ord(c) < 32 for c in path):
        return "a path holds no backslash or control character; use / between folders"
    if path.startswith("/") or posixpath.isabs(path):
        return "give the path relative to the pickup folder, not absolute"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "a path may not go up (..), hold '.' parts or empty parts; keep it under the pickup folder"
    if any(part.startswith((".", "#", "~")) for part in parts) or "__pycache__" in parts:
        return "hidden, temporary and __pycache__ names are not service files"
    if not path.endswith(".py"):
        return "only .py files are service files"
    return None


def publish(
    codes: CodeStore,
    files: Mapping[str, bytes],
    *,
    publisher: str,
    import_timeout_s: float,
    max_file_bytes: int,
    delete: tuple[str, ...] = (),
    delete_missing: bool = False,
) -> PublishReport:
    """Validate ``files`` (relative path -> bytes) and store them; raise :class:`PublishRefused`.

    ``delete``: paths to remove from the store. ``delete_missing``: also remove every
    published file not in ``files`` (the push is the whole tree).
    """
    _check(files, max_file_bytes, delete)
    _, manifest = codes.manifest()
    report = PublishReport(revision=0)
    changed: dict[str, bytes] = {}
    for path, content in sorted(files.items()):
        known = manifest.get(path)
        if known is not None and known.digest == digest_of(content):
            report.unchanged.append(path)
            continue
        (report.updated if known is not None else report.added).append(path)
        changed[path] = content
    gone = set(delete) | (set(manifest) - set(files) if delete_missing else set())
    report.removed.extend(sorted(p for p in gone if p in manifest))
    if changed:
        _trial(codes, changed, set(report.removed), import_timeout_s, max_file_bytes)
    if not changed and not report.removed:
        return PublishReport(codes.revision(), unchanged=report.unchanged)
    revision = codes.write(changed, report.removed, publisher)
    return PublishReport(revision, report.added, report.updated, report.unchanged, report.removed)


def _check(files: Mapping[str, bytes], max_file_bytes: int, delete: tuple[str, ...]) -> None:
    errors = []
    for path in [*files, *delete]:
        problem = path_problem(path)
        if problem:
            errors.append(DeployError(path, None, problem))
    for path, content in files.items():
        if len(content) > max_file_bytes:  # hot-deploy's own refusal, word for word
            errors.append(too_big(path, len(content), max_file_bytes))
    if errors:
        raise PublishRefused(errors)


def _trial(
    codes: CodeStore, changed: dict[str, bytes], removed: set[str], timeout_s: float, max_bytes: int
) -> None:
    from portway.hotdeploy.trial import trial_deploy

    siblings: dict[str, bytes] = {}
    for folder in {posixpath.dirname(p) for p in changed}:
        siblings.update(codes.folder(folder))
    for path in removed:
        siblings.pop(path, None)
    errors = trial_deploy(changed, siblings, import_timeout_s=timeout_s, max_file_bytes=max_bytes)
    if errors:
        raise PublishRefused(errors)
