"""``get`` and ``put``: files and (with ``-r``) trees between the server and the local disk."""

from __future__ import annotations

import glob
import posixpath
from pathlib import Path

from portway import filetree
from portway.files import FileError, NotFound
from portway.filescript.context import ScriptContext
from portway.filescript.parsing import GLOB_CHARS, needs
from portway.filescript.records import CommandError, reason_of


def get(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    """``get [-pr] remote [local]``: download; a glob or a local folder takes several."""
    remote_pattern = needs(args, 1, "get")[0]
    try:
        matches = ctx.remote_glob(remote_pattern)
    except NotFound as exc:
        path = ctx.remote(remote_pattern)
        raise CommandError(f'File "{path}" not found.', path, exc.reason) from exc
    except FileError as exc:
        path = ctx.remote(remote_pattern)
        raise CommandError(f'stat "{path}": {reason_of(exc)}', path, exc.reason) from exc
    target = ctx.local(args[1]) if len(args) > 1 else ctx.local_cwd
    into_directory = target.is_dir() or len(matches) > 1
    for shown, info in matches:
        path = ctx.remote(shown)
        local = target / posixpath.basename(path.rstrip("/")) if into_directory else target
        if ctx.is_directory(info, path) and "r" not in flags:
            raise CommandError(f"download {path}/: not a regular file", path, "is a directory")
        try:
            filetree.download(
                ctx.client,
                path,
                local,
                preserve=True if "p" in flags else None,
                on_directory=lambda d: ctx.print(f"Retrieving {d}"),
            )
        except FileError as exc:
            raise CommandError(f'download "{exc.path}": {reason_of(exc)}', exc.path, exc.reason) from exc
        except OSError as exc:
            raise CommandError(f'local "{local}": {exc.strerror}', str(local), str(exc.strerror)) from exc


def put(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    """``put [-pr] local [remote]``: upload; a local glob takes several."""
    local_pattern = str(ctx.local(needs(args, 1, "put")[0]))
    sources = sorted(glob.glob(local_pattern)) if GLOB_CHARS.intersection(local_pattern) else []
    if not sources:
        if not Path(local_pattern).exists():
            raise CommandError(
                f"stat {local_pattern}: No such file or directory", local_pattern, "no such local file"
            )
        sources = [local_pattern]
    target = ctx.remote(args[1]) if len(args) > 1 else ctx.cwd
    into_directory = len(args) < 2 or len(sources) > 1 or ctx.remote_is_directory(target)
    for source in sources:
        local = Path(source)
        remote = posixpath.join(target, local.name) if into_directory else target
        if local.is_dir() and "r" not in flags:
            raise CommandError(f'local "{source}/" is not a regular file', source, "is a directory")
        first = [True]

        def entering(directory: str, first: list[bool] = first) -> None:
            # sftp shows the top directory with a trailing slash, the rest without.
            ctx.print(f"Entering {directory}{'/' if first[0] else ''}")
            first[0] = False

        try:
            filetree.upload(
                ctx.client,
                local,
                remote,
                preserve=True if "p" in flags else None,
                on_directory=entering,
            )
        except FileError as exc:
            raise CommandError(f'upload "{exc.path}": {reason_of(exc)}', exc.path, exc.reason) from exc
        except OSError as exc:
            raise CommandError(f'local "{local}": {exc.strerror}', str(local), str(exc.strerror)) from exc
