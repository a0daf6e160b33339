"""Run OpenSSH ``sftp -b`` batch scripts over any file client.

The same script works on SFTP and FTP connections: commands map onto the
client's primitives (:class:`ScriptClient`), and the transcript has the shape
``sftp -b`` prints (``sftp> command`` echoes, listings, error lines), so a
script tried in ``sftp`` can be pasted into a service unchanged.

Supported: ``cd [path]``, ``lcd path``, ``ls [-1afhlrSt] [path]``,
``get [-pr] remote [local]``, ``put [-pr] local [remote]``, ``mkdir``,
``rmdir``, ``rm``, ``rename``, ``ln [-s]`` and ``symlink``, ``chmod``,
``chown``, ``chgrp`` (names or numeric ids), ``pwd``, ``lpwd``, ``lmkdir``,
``df [-h]``, ``bye``/``exit``/``quit``. A ``-`` before a command ignores its
failure; ``@`` does not echo it; ``#`` starts a comment. Globs (``*?[``) work
in the last part of remote paths for ``ls``, ``get``, ``rm``, ``chmod``,
``chown`` and ``chgrp``, and in local paths for ``put``. As in ``sftp -b``,
the first failing command (without ``-``) stops the script:
:class:`ScriptFailed` carries the transcript up to there.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import posixpath
import shlex
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

from portway import filetree
from portway.files import (
    FileError,
    FileInfo,
    FileKind,
    NotFound,
    PermissionDenied,
    Unsupported,
    parse_mode,
)
from portway.filetree import TreeClient

Stream = Literal["out", "err"]
WIDTH = 80  # sftp -b writes to a pipe, so it lays listings out for 80 columns
_GLOB_CHARS = frozenset("*?[")
_HALF_YEAR_S = 365 * 24 * 60 * 60 // 2


@dataclass(frozen=True)
class DiskUsage:
    """File system figures for ``df``, in bytes."""

    size: int
    used: int
    available: int
    available_root: int


class ScriptClient(TreeClient, Protocol):
    """What the interpreter needs from a protocol client beyond :class:`TreeClient`.

    Paths passed in are absolute; the interpreter keeps the working directory.
    """

    def home(self) -> str:
        """The absolute directory a session starts in (``cd`` with no argument)."""
        ...

    def realpath(self, remote: str) -> str:
        """The canonical absolute form of ``remote`` (``..`` and symlinks resolved)."""
        ...

    def disk_usage(self, remote: str) -> DiskUsage:
        """Figures for the file system holding ``remote``; :class:`Unsupported` if unknown."""
        ...

    def rename(self, source: str, target: str) -> None: ...
    def create_symlink(self, target: str, link: str) -> None: ...
    def create_hardlink(self, target: str, link: str) -> None: ...
    def chmod(self, mode: str | int, remote: str) -> None: ...
    def chown(self, owner: str | int, remote: str) -> None: ...
    def chgrp(self, group: str | int, remote: str) -> None: ...


@dataclass(frozen=True)
class Transcript:
    """What a script printed: ``(stream, line)`` pairs in order."""

    lines: tuple[tuple[Stream, str], ...]

    @property
    def output(self) -> str:
        """The lines ``sftp -b`` writes to stdout (echoes, listings)."""
        return "".join(text + "\n" for stream, text in self.lines if stream == "out")

    @property
    def errors(self) -> str:
        """The lines ``sftp -b`` writes to stderr (one per failed command)."""
        return "".join(text + "\n" for stream, text in self.lines if stream == "err")

    def __str__(self) -> str:
        return "".join(text + "\n" for _stream, text in self.lines)


class ScriptFailed(FileError):
    """A script command failed; the script stopped there.

    ``path`` and ``reason`` come from the failing command, ``line`` is its
    1-based line number, ``transcript`` holds everything printed so far.
    """

    def __init__(self, path: str, reason: str, line: int, command: str, transcript: Transcript) -> None:
        super().__init__(path, reason)
        self.line = line
        self.command = command
        self.transcript = transcript

    def __str__(self) -> str:
        return f"line {self.line} ({self.command}): {self.path}: {self.reason}"


class _CommandError(Exception):
    """One command failed; ``message`` is the line sftp would print."""

    def __init__(self, message: str, path: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.reason = reason or message


def run_script(client: ScriptClient, script: str, *, local_dir: str | Path | None = None) -> Transcript:
    """Run a whole script; raise :class:`ScriptFailed` at the first failure not marked ``-``."""
    return Session(client, local_dir=local_dir).run(script)


class Session:
    """An interpreter with its own remote and local working directories.

    The interactive shell keeps one session across lines; :func:`run_script`
    uses a fresh one. The local directory is tracked here, never via
    ``os.chdir``, so sessions in different threads do not disturb each other.
    """

    def __init__(self, client: ScriptClient, *, local_dir: str | Path | None = None) -> None:
        self.client = client
        self._home: str | None = None
        self._cwd: str | None = None
        self.local_cwd = Path(local_dir if local_dir is not None else os.getcwd()).resolve()
        self.finished = False
        self._out: list[tuple[Stream, str]] = []
        self._commands: dict[str, Callable[[str, list[str]], None]] = {
            "cd": self._cd,
            "chdir": self._cd,
            "lcd": self._lcd,
            "lchdir": self._lcd,
            "ls": self._ls,
            "dir": self._ls,
            "get": self._get,
            "put": self._put,
            "mkdir": self._mkdir,
            "lmkdir": self._lmkdir,
            "rmdir": self._rmdir,
            "rm": self._rm,
            "rename": self._rename,
            "ln": self._ln,
            "symlink": self._symlink,
            "chmod": self._chmod,
            "chown": self._chown,
            "chgrp": self._chgrp,
            "pwd": self._pwd,
            "lpwd": self._lpwd,
            "df": self._df,
            "bye": self._quit,
            "exit": self._quit,
            "quit": self._quit,
        }

    @property
    def cwd(self) -> str:
        if self._cwd is None:
            self._cwd = self.home
        return self._cwd

    @property
    def home(self) -> str:
        if self._home is None:
            self._home = self.client.home()
        return self._home

    def run(self, script: str) -> Transcript:
        """Run every line; stop at the first failure not prefixed by ``-``."""
        self._out = []
        for number, raw in enumerate(script.splitlines(), start=1):
            if self.finished:
                break
            failure = self.run_line(raw)
            if failure is not None:
                transcript = Transcript(tuple(self._out))
                raise ScriptFailed(failure.path, failure.reason, number, raw.strip(), transcript)
        return Transcript(tuple(self._out))

    def run_line(self, raw: str) -> _CommandError | None:
        """Run one line; return the error that should stop a script, if any."""
        line = raw.strip()
        if not line:
            return None
        if line.startswith("#"):
            self._print(f"sftp> {line}")  # sftp echoes comments, then skips them
            return None
        echo, ignore = True, False
        while line[:1] in ("-", "@"):
            if line[0] == "-":
                ignore = True
            else:
                echo = False
            line = line[1:].lstrip()
        if echo:
            self._print(f"sftp> {raw.strip().lstrip('@')}")
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return self._failed(_CommandError(f"Invalid command line: {exc}"), ignore)
        if not words:
            return None
        handler = self._commands.get(words[0])
        if handler is None:
            return self._failed(_CommandError("Invalid command.", words[0], "invalid command"), ignore)
        flags, args = _split_flags(words[1:])
        try:
            handler(flags, args)
        except _CommandError as exc:
            return self._failed(exc, ignore)
        return None

    def take_lines(self) -> list[tuple[Stream, str]]:
        """Lines printed since the last call (for the interactive shell)."""
        lines, self._out = self._out, []
        return lines

    # -- output ---------------------------------------------------------

    def _print(self, text: str, stream: Stream = "out") -> None:
        self._out.append((stream, text))

    def _failed(self, exc: _CommandError, ignore: bool) -> _CommandError | None:
        self._print(exc.message, "err")
        return None if ignore else exc

    # -- paths ----------------------------------------------------------

    def _remote(self, path: str) -> str:
        return path if path.startswith("/") else posixpath.join(self.cwd, path)

    def _local(self, path: str) -> Path:
        return self.local_cwd / Path(path).expanduser()

    def _remote_glob(self, pattern: str) -> list[tuple[str, FileInfo]]:
        """``(path as the user wrote it, info)`` for each match; a plain path matches itself."""
        directory, name = posixpath.split(pattern)
        if not _GLOB_CHARS.intersection(name):
            return [(pattern, self.client.get_info(self._remote(pattern)))]
        listed = self.client.list(self._remote(directory or "."))
        found = [
            (posixpath.join(directory, info.name), info)
            for info in sorted(listed, key=lambda i: i.name)
            if fnmatch.fnmatchcase(info.name, name)
            and (name.startswith(".") or not info.name.startswith("."))
        ]
        if not found:
            raise NotFound(self._remote(pattern), "No such file or directory")
        return found

    # -- commands -------------------------------------------------------

    def _cd(self, flags: str, args: list[str]) -> None:
        if not args:
            self._cwd = self.home
            return
        path = self._remote(args[0])
        try:
            info = self.client.get_info(path)
            if info.kind is FileKind.SYMLINK:
                path = self.client.realpath(path)
                info = self.client.get_info(path)
        except FileError as exc:
            raise _CommandError(f"stat remote: {_reason(exc)}", path, exc.reason) from exc
        if info.kind is not FileKind.DIR:
            raise _CommandError(
                f'Can\'t change directory: "{path}" is not a directory', path, "not a directory"
            )
        self._cwd = self.client.realpath(path)

    def _lcd(self, flags: str, args: list[str]) -> None:
        target = self._local(args[0]) if args else Path.home()
        if not target.is_dir():
            raise _CommandError(
                f'Couldn\'t change local directory to "{target}": No such file or directory',
                str(target),
                "no such local directory",
            )
        self.local_cwd = target.resolve()

    def _lmkdir(self, flags: str, args: list[str]) -> None:
        target = self._local(_needs(args, 1, "lmkdir")[0])
        try:
            target.mkdir()
        except OSError as exc:
            raise _CommandError(f'Couldn\'t create local directory "{target}": {exc.strerror}') from exc

    def _pwd(self, flags: str, args: list[str]) -> None:
        self._print(f"Remote working directory: {self.cwd}")

    def _lpwd(self, flags: str, args: list[str]) -> None:
        self._print(f"Local working directory: {self.local_cwd}")

    def _quit(self, flags: str, args: list[str]) -> None:
        self.finished = True

    def _ls(self, flags: str, args: list[str]) -> None:
        pattern = args[0] if args else None
        if pattern is None:
            self._ls_directory(self.cwd, "", flags)
            return
        try:
            matches = self._remote_glob(pattern)
        except FileError as exc:
            path = self._remote(pattern)
            raise _CommandError(f'Can\'t ls: "{path}" not found', path, exc.reason) from exc
        if len(matches) == 1 and self._is_directory(matches[0][1], self._remote(matches[0][0])):
            shown, _info = matches[0]
            self._ls_directory(self._remote(shown), shown.rstrip("/") + "/", flags)
            return
        # Like sftp, a glob's columns are sized by the longest absolute path.
        width = max(len(self._remote(shown)) for shown, _info in matches)
        self._print_listing([(shown, info) for shown, info in matches], width, flags)

    def _is_directory(self, info: FileInfo, path: str) -> bool:
        if info.kind is FileKind.DIR:
            return True
        if info.kind is not FileKind.SYMLINK:
            return False
        try:
            return self.client.get_info(self.client.realpath(path)).kind is FileKind.DIR
        except FileError:
            return False

    def _ls_directory(self, path: str, prefix: str, flags: str) -> None:
        try:
            entries = self.client.list(path)
            if "a" in flags:
                here = self.client.get_info(path)
                parent = self.client.get_info(posixpath.dirname(path.rstrip("/")) or "/")
                entries = [
                    replace(here, name="."),
                    replace(parent, name=".."),
                    *entries,
                ]
        except FileError as exc:
            raise _CommandError(
                f'Couldn\'t read directory: "{path}": {_reason(exc)}', path, exc.reason
            ) from exc
        shown = [e for e in entries if "a" in flags or not e.name.startswith(".")]
        width = max((len(e.name) for e in shown), default=0) + len(prefix)
        self._print_listing([(prefix + e.name, e) for e in shown], width, flags)

    def _print_listing(self, items: list[tuple[str, FileInfo]], width: int, flags: str) -> None:
        if "f" not in flags:
            items.sort(key=_sort_key(flags))
            if "r" in flags:
                items.reverse()
        if "l" in flags or "n" in flags:  # -n: FileInfo carries names only, so it lists as -l
            for shown, info in items:
                self._print(_long_line(info, shown))
            return
        if "1" in flags:
            for shown, _info in items:
                self._print(shown)
            return
        columns = max(WIDTH // (width + 2), 1)
        colspace = min(WIDTH // columns, WIDTH)
        row = ""
        for count, (shown, _info) in enumerate(items, start=1):
            row += shown.ljust(colspace)
            if count % columns == 0:
                self._print(row)
                row = ""
        if row:
            self._print(row)

    def _get(self, flags: str, args: list[str]) -> None:
        remote_pattern = _needs(args, 1, "get")[0]
        try:
            matches = self._remote_glob(remote_pattern)
        except NotFound as exc:
            path = self._remote(remote_pattern)
            raise _CommandError(f'File "{path}" not found.', path, exc.reason) from exc
        except FileError as exc:
            path = self._remote(remote_pattern)
            raise _CommandError(f'stat "{path}": {_reason(exc)}', path, exc.reason) from exc
        target = self._local(args[1]) if len(args) > 1 else self.local_cwd
        into_directory = target.is_dir() or len(matches) > 1
        for shown, info in matches:
            path = self._remote(shown)
            local = target / posixpath.basename(path.rstrip("/")) if into_directory else target
            if self._is_directory(info, path) and "r" not in flags:
                raise _CommandError(f"download {path}/: not a regular file", path, "is a directory")
            try:
                filetree.download(
                    self.client,
                    path,
                    local,
                    preserve=True if "p" in flags else None,
                    on_directory=lambda d: self._print(f"Retrieving {d}"),
                )
            except FileError as exc:
                raise _CommandError(f'download "{exc.path}": {_reason(exc)}', exc.path, exc.reason) from exc
            except OSError as exc:
                raise _CommandError(
                    f'local "{local}": {exc.strerror}', str(local), str(exc.strerror)
                ) from exc

    def _put(self, flags: str, args: list[str]) -> None:
        local_pattern = str(self._local(_needs(args, 1, "put")[0]))
        sources = sorted(glob.glob(local_pattern)) if _GLOB_CHARS.intersection(local_pattern) else []
        if not sources:
            if not Path(local_pattern).exists():
                raise _CommandError(
                    f"stat {local_pattern}: No such file or directory", local_pattern, "no such local file"
                )
            sources = [local_pattern]
        target = self._remote(args[1]) if len(args) > 1 else self.cwd
        into_directory = len(args) < 2 or len(sources) > 1 or self._remote_is_directory(target)
        for source in sources:
            local = Path(source)
            remote = posixpath.join(target, local.name) if into_directory else target
            if local.is_dir() and "r" not in flags:
                raise _CommandError(f'local "{source}/" is not a regular file', source, "is a directory")
            first = [True]

            def entering(directory: str, first: list[bool] = first) -> None:
                # sftp shows the top directory with a trailing slash, the rest without.
                self._print(f"Entering {directory}{'/' if first[0] else ''}")
                first[0] = False

            try:
                filetree.upload(
                    self.client,
                    local,
                    remote,
                    preserve=True if "p" in flags else None,
                    on_directory=entering,
                )
            except FileError as exc:
                raise _CommandError(f'upload "{exc.path}": {_reason(exc)}', exc.path, exc.reason) from exc
            except OSError as exc:
                raise _CommandError(
                    f'local "{local}": {exc.strerror}', str(local), str(exc.strerror)
                ) from exc

    def _remote_is_directory(self, path: str) -> bool:
        try:
            return self._is_directory(self.client.get_info(path), path)
        except NotFound:
            return False
        except FileError as exc:
            raise _CommandError(f'stat "{path}": {_reason(exc)}', path, exc.reason) from exc

    def _mkdir(self, flags: str, args: list[str]) -> None:
        path = self._remote(_needs(args, 1, "mkdir")[0])
        self._remote_call(f'remote mkdir "{path}"', path, lambda: self.client.create_directory(path))

    def _rmdir(self, flags: str, args: list[str]) -> None:
        path = self._remote(_needs(args, 1, "rmdir")[0])
        self._remote_call(f'remote rmdir "{path}"', path, lambda: self.client.remove_directory(path))

    def _rm(self, flags: str, args: list[str]) -> None:
        pattern = _needs(args, 1, "rm")[0]
        for path in self._targets(pattern, "remote delete {path}"):
            self._remote_call(f"remote delete {path}", path, partial(self.client.remove_file, path))

    def _rename(self, flags: str, args: list[str]) -> None:
        source, target = (self._remote(a) for a in _needs(args, 2, "rename"))
        self._remote_call(
            f'remote rename "{source}" to "{target}"', source, lambda: self.client.rename(source, target)
        )

    def _ln(self, flags: str, args: list[str]) -> None:
        if "s" in flags:
            self._symlink("", args)
            return
        source, link = (self._remote(a) for a in _needs(args, 2, "ln"))
        self._remote_call(
            f'remote link "{source}" to "{link}"', link, lambda: self.client.create_hardlink(source, link)
        )

    def _symlink(self, flags: str, args: list[str]) -> None:
        # As in sftp, the link's target is stored as written: a relative one stays relative.
        target, link_arg = _needs(args, 2, "symlink")
        link = self._remote(link_arg)
        self._remote_call(
            f'remote symlink "{target}" to "{link}"', link, lambda: self.client.create_symlink(target, link)
        )

    def _chmod(self, flags: str, args: list[str]) -> None:
        mode_text, pattern = _needs(args, 2, "chmod")
        try:
            mode = parse_mode(mode_text)
        except ValueError as exc:
            raise _CommandError(f"Invalid mode: {exc}", pattern, str(exc)) from exc
        for path in self._targets(pattern, 'remote setstat "{path}"'):
            self._remote_call(f'remote setstat "{path}"', path, partial(self.client.chmod, mode, path))

    def _chown(self, flags: str, args: list[str]) -> None:
        owner, pattern = _needs(args, 2, "chown")
        for path in self._targets(pattern, 'remote setstat "{path}"'):
            self._remote_call(
                f'remote setstat "{path}"', path, partial(self.client.chown, _id_or_name(owner), path)
            )

    def _chgrp(self, flags: str, args: list[str]) -> None:
        group, pattern = _needs(args, 2, "chgrp")
        for path in self._targets(pattern, 'remote setstat "{path}"'):
            self._remote_call(
                f'remote setstat "{path}"', path, partial(self.client.chgrp, _id_or_name(group), path)
            )

    def _df(self, flags: str, args: list[str]) -> None:
        path = self._remote(args[0]) if args else self.cwd
        if "i" in flags:
            raise _CommandError("df -i (inode counts) is not supported by this client", path, "unsupported")
        try:
            usage = self.client.disk_usage(path)
        except Unsupported as exc:
            raise _CommandError(
                "Server does not support the statvfs@openssh.com extension", path, exc.reason
            ) from exc
        except FileError as exc:
            raise _CommandError(f'remote statvfs "{path}": {_reason(exc)}', path, exc.reason) from exc
        capacity = usage.used * 100 // usage.size if usage.size else 0
        if "h" in flags:
            self._print(f"{'Size':>8} {'Used':>8} {'Avail':>8} {'(root)':>8} {'%Capacity':>12}")
            figures = (usage.size, usage.used, usage.available, usage.available_root)
            self._print(" ".join(f"{_scaled(v):>8}" for v in figures) + f" {capacity:>11}%")
            return
        self._print(f"{'Size':>12} {'Used':>12} {'Avail':>12} {'(root)':>12} {'%Capacity':>12}")
        kib = (usage.size // 1024, usage.used // 1024, usage.available // 1024, usage.available_root // 1024)
        self._print(" ".join(f"{v:>12}" for v in kib) + f" {capacity:>11}%")

    # -- shared steps ---------------------------------------------------

    def _targets(self, pattern: str, message: str) -> list[str]:
        if not _GLOB_CHARS.intersection(posixpath.basename(pattern)):
            return [self._remote(pattern)]
        try:
            return [self._remote(shown) for shown, _info in self._remote_glob(pattern)]
        except FileError as exc:
            path = self._remote(pattern)
            raise _CommandError(f"{message.format(path=path)}: {_reason(exc)}", path, exc.reason) from exc

    def _remote_call(self, what: str, path: str, call: Callable[[], None]) -> None:
        try:
            call()
        except FileError as exc:
            raise _CommandError(f"{what}: {_reason(exc)}", exc.path or path, exc.reason) from exc
        except ValueError as exc:
            raise _CommandError(f"{what}: {exc}", path, str(exc)) from exc


def _split_flags(words: list[str]) -> tuple[str, list[str]]:
    """Leading ``-xyz`` words are flags (as sftp's getopt reads them); ``--`` ends them."""
    flags = ""
    index = 0
    while index < len(words) and words[index].startswith("-") and len(words[index]) > 1:
        if words[index] == "--":
            index += 1
            break
        flags += words[index][1:]
        index += 1
    return flags, words[index:]


def _needs(args: list[str], count: int, command: str) -> list[str]:
    if len(args) < count:
        noun = "argument" if count == 1 else "arguments"
        raise _CommandError(f"{command}: needs {count} {noun}", command, "missing argument")
    return args[:count]


def _id_or_name(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def _reason(exc: FileError) -> str:
    """The wording sftp uses for the common status codes; otherwise the server's own."""
    if isinstance(exc, NotFound):
        return "No such file or directory"
    if isinstance(exc, PermissionDenied):
        return "Permission denied"
    return exc.reason


def _sort_key(flags: str) -> Callable[[tuple[str, FileInfo]], tuple[float, str]]:
    if "t" in flags:
        return lambda item: (-(item[1].mtime.timestamp() if item[1].mtime else 0.0), item[0])
    if "S" in flags:
        return lambda item: (-float(item[1].size or 0), item[0])
    return lambda item: (0.0, item[0])


_TYPE_BITS = {FileKind.FILE: stat.S_IFREG, FileKind.DIR: stat.S_IFDIR, FileKind.SYMLINK: stat.S_IFLNK}


def _long_line(info: FileInfo, shown: str) -> str:
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
