"""``ls``: what it lists and how, in the layouts of OpenSSH 9 ``sftp -b`` (columns, ``-1``, ``-l``)."""

from __future__ import annotations

import posixpath
import stat
import time
from collections.abc import Callable
from dataclasses import replace

from portway.files import FileError, FileInfo, FileKind
from portway.filescript.context import ScriptContext
from portway.filescript.records import CommandError, reason_of

WIDTH = 80  # sftp -b writes to a pipe, so it lays listings out for 80 columns
_HALF_YEAR_S = 365 * 24 * 60 * 60 // 2
_TYPE_BITS = {FileKind.FILE: stat.S_IFREG, FileKind.DIR: stat.S_IFDIR, FileKind.SYMLINK: stat.S_IFLNK}


def ls(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    """``ls [-1afhlnrSt] [path]``: a directory's entries, a file, or a glob's matches."""
    pattern = args[0] if args else None
    if pattern is None:
        _ls_directory(ctx, ctx.cwd, "", flags)
        return
    try:
        matches = ctx.remote_glob(pattern)
    except FileError as exc:
        path = ctx.remote(pattern)
        raise CommandError(f'Can\'t ls: "{path}" not found', path, exc.reason) from exc
    if len(matches) == 1 and ctx.is_directory(matches[0][1], ctx.remote(matches[0][0])):
        shown, _info = matches[0]
        _ls_directory(ctx, ctx.remote(shown), shown.rstrip("/") + "/", flags)
        return
    # Like sftp, a glob's columns are sized by the longest absolute path.
    width = max(len(ctx.remote(shown)) for shown, _info in matches)
    _print_listing(ctx, list(matches), width, flags)


def _ls_directory(ctx: ScriptContext, path: str, prefix: str, flags: str) -> None:
    try:
        entries = ctx.client.list(path)
        if "a" in flags:
            entries = [*_dot_entries(ctx, path), *entries]
    except FileError as exc:
        raise CommandError(f'Couldn\'t read directory: "{path}": {reason_of(exc)}', path, exc.reason) from exc
    shown = [e for e in entries if "a" in flags or not e.name.startswith(".")]
    width = max((len(e.name) for e in shown), default=0) + len(prefix)
    _print_listing(ctx, [(prefix + e.name, e) for e in shown], width, flags)


def _dot_entries(ctx: ScriptContext, path: str) -> list[FileInfo]:
    """``.`` and ``..`` for ``ls -a``, each only when the server told something about it.

    A server that says nothing of a folder (FTP without facts for ``/``) would print
    ``d--------- ? ? ? 0 ?``: such an entry is left out, as OpenSSH's sftp leaves out
    what the server did not list.
    """
    here = ctx.client.get_info(path)
    parent = ctx.client.get_info(posixpath.dirname(path.rstrip("/")) or "/")
    return [replace(info, name=name) for name, info in ((".", here), ("..", parent)) if _has_facts(info)]


def _has_facts(info: FileInfo) -> bool:
    return info.mode is not None or info.mtime is not None or info.owner is not None


def _print_listing(ctx: ScriptContext, items: list[tuple[str, FileInfo]], width: int, flags: str) -> None:
    if "f" not in flags:
        items.sort(key=_sort_key(flags))
        if "r" in flags:
            items.reverse()
    if "l" in flags or "n" in flags:  # -n: FileInfo carries names only, so it lists as -l
        for shown, info in items:
            ctx.print(long_line(info, shown))
        return
    if "1" in flags:
        for shown, _info in items:
            ctx.print(shown)
        return
    columns = max(WIDTH // (width + 2), 1)
    colspace = min(WIDTH // columns, WIDTH)
    row = ""
    for count, (shown, _info) in enumerate(items, start=1):
        row += shown.ljust(colspace)
        if count % columns == 0:
            ctx.print(row)
            row = ""
    if row:
        ctx.print(row)


def _sort_key(flags: str) -> Callable[[tuple[str, FileInfo]], tuple[float, str]]:
    if "t" in flags:
        return lambda item: (-(item[1].mtime.timestamp() if item[1].mtime else 0.0), item[0])
    if "S" in flags:
        return lambda item: (-float(item[1].size or 0), item[0])
    return lambda item: (0.0, item[0])


def long_line(info: FileInfo, shown: str) -> str:
    """One ``ls -l`` line in the layout of OpenSSH 9 ``sftp`` (link count shown as ``?``)."""
    mode = info.mode or 0
    type_bits = _TYPE_BITS.get(info.kind, stat.S_IFMT(mode))
    owner = info.owner or "?"
    group = info.group or "?"
    size = info.size or 0
    return (
        f"{stat.filemode(type_bits | stat.S_IMODE(mode))} {'?':>4} "
        f"{owner:<{max(len(owner), 8)}} {group:<{max(len(group), 8)}} {size:>8} {_date(info)} {shown}"
    )


def _date(info: FileInfo) -> str:
    if info.mtime is None:
        return "?".ljust(12)
    stamp = info.mtime.timestamp()
    now = time.time()
    local = time.localtime(stamp)
    day = str(local.tm_mday).rjust(2)
    if now - _HALF_YEAR_S < stamp <= now:
        return time.strftime(f"%b {day} %H:%M", local)
    return time.strftime(f"%b {day}  %Y", local)
