"""``portway deploy push ENV PATH...``: publish service files to the cluster's store.

With the server of ENV running, the files go through its admin API
(``POST /admin/api/deploy/files``); without it, straight to the store, with
the same trial deploy in this process. Either way it is
:func:`portway.publishing.publish` that decides, and nothing is written
when a file is refused.

A folder's files are published under their path relative to the folder; a
file under one of ENV's pickup folders under its path relative to that
folder; any other file under its name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from portway import environment
from portway.environment import Environment
from portway.errors import PortwayError

CHUNK_BYTES = 768 * 1024  # under the admin API's default 1 MiB body limit, JSON escaping included


@click.command("push")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--delete-missing", is_flag=True, help="Also remove published files not among PATHS.")
def push(env: str, paths: tuple[str, ...], delete_missing: bool) -> None:
    """Publish service files (or folders of them) to the store every server deploys."""
    loaded = environment.load(env)
    files = collect(loaded, [Path(p) for p in paths])
    from portway.cli.remote import server_pid

    if server_pid(loaded) is not None:
        report = _through_server(loaded, files, delete_missing)
    else:
        report = _straight_to_store(loaded, files, delete_missing)
    for word in ("added", "updated", "unchanged", "removed"):
        for path in report[word]:
            click.echo(f"{word:9} {path}")
    counts = ", ".join(f"{len(report[w])} {w}" for w in ("added", "updated", "unchanged", "removed"))
    click.echo(f"code revision {report['revision']}: {counts}")


def collect(env: Environment, paths: list[Path]) -> dict[str, bytes]:
    """Relative path -> bytes for the files and folders given; symlinks and non-service files refused."""
    from portway.hotdeploy.listing import scan

    files: dict[str, bytes] = {}
    for given in paths:
        if given.is_symlink():
            raise PortwayError(f"{given}: a symlink is not published; give the file or folder itself")
        if given.is_dir():
            root = given.resolve()
            for found in scan(root):
                if os.path.islink(found):
                    raise PortwayError(f"{found}: a symlink is not published; copy the file")
                files[os.path.relpath(found, root).replace(os.sep, "/")] = Path(found).read_bytes()
            continue
        full = given.resolve()
        rel = next((full.relative_to(d) for d in env.pickup_dirs if full.is_relative_to(d)), Path(full.name))
        files[rel.as_posix()] = full.read_bytes()
    if not files:
        raise PortwayError("no service files (*.py) in the paths given")
    return files


def _through_server(env: Environment, files: dict[str, bytes], delete_missing: bool) -> dict[str, Any]:
    from portway.cli.remote import call

    deletes: list[str] = []
    if delete_missing:
        published = call(env, "GET", "/deploy/files")
        deletes = [f["path"] for f in published["files"] if f["path"] not in files]
    total: dict[str, Any] = {"revision": 0, "added": [], "updated": [], "unchanged": [], "removed": []}
    for index, chunk in enumerate(_chunks(files)):
        body = {
            "files": [{"path": p, "content": _text(p, c)} for p, c in chunk.items()],
            "delete": deletes if index == 0 else [],
        }
        report = call(env, "POST", "/deploy/files", body, timeout=120)
        for key in ("added", "updated", "unchanged", "removed"):
            total[key] += report[key]
        total["revision"] = report["revision"]
    return total


def _straight_to_store(env: Environment, files: dict[str, bytes], delete_missing: bool) -> dict[str, Any]:
    import getpass
    import socket

    from portway.codestore import CodeStore
    from portway.publishing import publish
    from portway.store import Store

    store = Store.open(env)
    try:
        settings = env.settings.hotdeploy
        report = publish(
            CodeStore(store.db),
            files,
            publisher=f"cli {getpass.getuser()}@{socket.gethostname()}",
            import_timeout_s=settings.import_timeout_s,
            max_file_bytes=settings.max_file_bytes,
            delete_missing=delete_missing,
        )
    finally:
        store.close()
    return report.as_json()


def _chunks(files: dict[str, bytes]) -> list[dict[str, bytes]]:
    chunks: list[dict[str, bytes]] = [{}]
    size = 0
    for path, content in sorted(files.items()):
        if chunks[-1] and size + len(content) > CHUNK_BYTES:
            chunks.append({})
            size = 0
        chunks[-1][path] = content
        size += len(content)
    return chunks


def _text(path: str, content: bytes) -> str:
    try:
        return content.decode()
    except UnicodeDecodeError:
        raise PortwayError(f"{path}: not valid UTF-8; save the file as UTF-8") from None
