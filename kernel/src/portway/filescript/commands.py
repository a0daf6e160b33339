"""The batch command table: each ``sftp -b`` command name and the function that runs it.

A command is ``fn(ctx, flags, args)``: it acts through ``ctx.client``,
prints through ``ctx.print`` and fails by raising
:class:`~portway.filescript.records.CommandError` with the line sftp prints.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from portway.files import FileError, FileKind, Unsupported, parse_mode
from portway.filescript.context import ScriptContext
from portway.filescript.listing import ls
from portway.filescript.parsing import id_or_name, needs
from portway.filescript.records import CommandError, reason_of
from portway.filescript.transfers import get, put

Command = Callable[[ScriptContext, str, list[str]], None]


def cd(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    if not args:
        ctx.cwd = ctx.home
        return
    path = ctx.remote(args[0])
    try:
        info = ctx.client.get_info(path)
        if info.kind is FileKind.SYMLINK:
            path = ctx.client.realpath(path)
            info = ctx.client.get_info(path)
    except FileError as exc:
        raise CommandError(f"stat remote: {reason_of(exc)}", path, exc.reason) from exc
    if info.kind is not FileKind.DIR:
        raise CommandError(f'Can\'t change directory: "{path}" is not a directory', path, "not a directory")
    ctx.cwd = ctx.client.realpath(path)


def lcd(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    target = ctx.local(args[0]) if args else Path.home()
    if not target.is_dir():
        raise CommandError(
            f'Couldn\'t change local directory to "{target}": No such file or directory',
            str(target),
            "no such local directory",
        )
    ctx.local_cwd = target.resolve()


def lmkdir(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    target = ctx.local(needs(args, 1, "lmkdir")[0])
    try:
        target.mkdir()
    except OSError as exc:
        raise CommandError(f'Couldn\'t create local directory "{target}": {exc.strerror}') from exc


def pwd(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    ctx.print(f"Remote working directory: {ctx.cwd}")


def lpwd(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    ctx.print(f"Local working directory: {ctx.local_cwd}")


def quit_(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    ctx.finished = True


def mkdir(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    path = ctx.remote(needs(args, 1, "mkdir")[0])
    ctx.remote_call(f'remote mkdir "{path}"', path, lambda: ctx.client.create_directory(path))


def rmdir(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    path = ctx.remote(needs(args, 1, "rmdir")[0])
    ctx.remote_call(f'remote rmdir "{path}"', path, lambda: ctx.client.remove_directory(path))


def rm(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    pattern = needs(args, 1, "rm")[0]
    for path in ctx.targets(pattern, "remote delete {path}"):
        ctx.remote_call(f"remote delete {path}", path, partial(ctx.client.remove_file, path))


def rename(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    source, target = (ctx.remote(a) for a in needs(args, 2, "rename"))
    ctx.remote_call(
        f'remote rename "{source}" to "{target}"', source, lambda: ctx.client.rename(source, target)
    )


def ln(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    if "s" in flags:
        symlink(ctx, "", args)
        return
    source, link = (ctx.remote(a) for a in needs(args, 2, "ln"))
    ctx.remote_call(
        f'remote link "{source}" to "{link}"', link, lambda: ctx.client.create_hardlink(source, link)
    )


def symlink(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    # As in sftp, the link's target is stored as written: a relative one stays relative.
    target, link_arg = needs(args, 2, "symlink")
    link = ctx.remote(link_arg)
    ctx.remote_call(
        f'remote symlink "{target}" to "{link}"', link, lambda: ctx.client.create_symlink(target, link)
    )


def chmod(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    mode_text, pattern = needs(args, 2, "chmod")
    try:
        mode = parse_mode(mode_text)
    except ValueError as exc:
        raise CommandError(f"Invalid mode: {exc}", pattern, str(exc)) from exc
    for path in ctx.targets(pattern, 'remote setstat "{path}"'):
        ctx.remote_call(f'remote setstat "{path}"', path, partial(ctx.client.chmod, mode, path))


def chown(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    owner, pattern = needs(args, 2, "chown")
    for path in ctx.targets(pattern, 'remote setstat "{path}"'):
        ctx.remote_call(f'remote setstat "{path}"', path, partial(ctx.client.chown, id_or_name(owner), path))


def chgrp(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    group, pattern = needs(args, 2, "chgrp")
    for path in ctx.targets(pattern, 'remote setstat "{path}"'):
        ctx.remote_call(f'remote setstat "{path}"', path, partial(ctx.client.chgrp, id_or_name(group), path))


def df(ctx: ScriptContext, flags: str, args: list[str]) -> None:
    path = ctx.remote(args[0]) if args else ctx.cwd
    if "i" in flags:
        raise CommandError("df -i (inode counts) is not supported by this client", path, "unsupported")
    try:
        usage = ctx.client.disk_usage(path)
    except Unsupported as exc:
        message = "Server does not support the statvfs@openssh.com extension"
        raise CommandError(message, path, exc.reason) from exc
    except FileError as exc:
        raise CommandError(f'remote statvfs "{path}": {reason_of(exc)}', path, exc.reason) from exc
    capacity = usage.used * 100 // usage.size if usage.size else 0
    if "h" in flags:
        ctx.print(f"{'Size':>8} {'Used':>8} {'Avail':>8} {'(root)':>8} {'%Capacity':>12}")
        figures = (usage.size, usage.used, usage.available, usage.available_root)
        ctx.print(" ".join(f"{_scaled(v):>8}" for v in figures) + f" {capacity:>11}%")
        return
    ctx.print(f"{'Size':>12} {'Used':>12} {'Avail':>12} {'(root)':>12} {'%Capacity':>12}")
    kib = (usage.size // 1024, usage.used // 1024, usage.available // 1024, usage.available_root // 1024)
    ctx.print(" ".join(f"{v:>12}" for v in kib) + f" {capacity:>11}%")


def _scaled(value: int) -> str:
    """Bytes as ``df -h`` shows them: 3 significant figures and a unit (``22.5GB``)."""
    units = ("B", "KB", "MB", "GB", "TB", "PB", "EB")
    amount = float(value)
    unit = 0
    while amount >= 1024 and unit < len(units) - 1:
        amount /= 1024
        unit += 1
    if unit == 0:
        return f"{value}B"
    return f"{amount:.1f}{units[unit]}" if amount < 100 else f"{amount:.0f}{units[unit]}"


COMMANDS: dict[str, Command] = {
    "cd": cd,
    "chdir": cd,
    "lcd": lcd,
    "lchdir": lcd,
    "ls": ls,
    "dir": ls,
    "get": get,
    "put": put,
    "mkdir": mkdir,
    "lmkdir": lmkdir,
    "rmdir": rmdir,
    "rm": rm,
    "rename": rename,
    "ln": ln,
    "symlink": symlink,
    "chmod": chmod,
    "chown": chown,
    "chgrp": chgrp,
    "pwd": pwd,
    "lpwd": lpwd,
    "df": df,
    "bye": quit_,
    "exit": quit_,
    "quit": quit_,
}
