"""Directory listings to :class:`~portway.files.FileInfo`: MLSD/MLST facts and LIST text.

MLSD (RFC 3659) is machine-readable and preferred. Servers without it only
answer LIST, whose format is whatever the server's ``ls`` printed; the two
formats found in practice are parsed here: Unix ``ls -l`` and DOS/Windows
(IIS). LIST times have no time zone and, for recent files, no year; they are
read as UTC and the year is the latest one that does not put the date in
the future.
"""

from __future__ import annotations

import posixpath
import re
from datetime import UTC, datetime, timedelta

from portway.files import FileInfo, FileKind

_MLSD_TYPES = {"file": FileKind.FILE, "dir": FileKind.DIR, "cdir": FileKind.DIR, "pdir": FileKind.DIR}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}

_UNIX = re.compile(
    r"^(?P<type>[-dlbcpsD])(?P<perm>[-rwxsStTlL]{9})[.+@]?\s+"
    r"(?:\d+\s+)?"  # link count (missing on some servers)
    r"(?P<owner>\S+)\s+(?:(?P<group>\S+)\s+)?"
    r"(?P<size>\d+|\d+,\s*\d+)\s+"
    r"(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?P<when>\d{1,2}:\d{2}(?::\d{2})?|\d{4})\s"
    r"(?P<name>.+)$"
)
_DOS = re.compile(
    r"^(?P<date>\d{1,2}-\d{1,2}-\d{2,4})\s+(?P<time>\d{1,2}:\d{2}\s*(?:[AaPp][Mm])?)\s+"
    r"(?:(?P<dir><DIR>)|(?P<size>[\d,]+))\s+(?P<name>.+)$"
)


def child_path(directory: str, name: str) -> str:
    """``directory/name`` in FTP's POSIX-style paths."""
    return posixpath.join(directory, name) if directory else name


def parse_facts(line: str, directory: str) -> FileInfo | None:
    """One MLSD/MLST line (``type=file;size=5;modify=...; name``) as a FileInfo.

    Returns ``None`` for the ``.``/``..`` entries (``cdir``/``pdir``). With an
    empty ``directory`` the name in the line is taken as the full path (MLST).
    """
    facts_text, sep, name = line.lstrip(" ").partition(" ")
    if not sep:
        return None
    facts: dict[str, str] = {}
    for fact in facts_text.split(";"):
        key, eq, value = fact.partition("=")
        if eq:
            facts[key.strip().lower()] = value
    raw_type = facts.get("type", "")
    if raw_type.lower() in ("cdir", "pdir"):
        return None
    kind, target = _fact_kind(raw_type)
    # RFC 3659 servers write 0644; pyftpdlib writes Python's 0o644.
    raw_mode = facts.get("unix.mode", "").lower().removeprefix("0o")
    path = child_path(directory, name) if directory else name
    return FileInfo(
        name=posixpath.basename(path.rstrip("/")) or path,
        path=path,
        kind=kind,
        size=int(facts["size"]) if facts.get("size", "").isdigit() else None,
        mtime=fact_time(facts.get("modify", "")),
        mode=int(raw_mode, 8) & 0o7777 if _octal(raw_mode) else None,
        owner=facts.get("unix.owner") or facts.get("unix.uid"),
        group=facts.get("unix.group") or facts.get("unix.gid"),
        link_target=target,
    )


def _fact_kind(raw: str) -> tuple[FileKind, str | None]:
    lowered = raw.lower()
    if lowered in _MLSD_TYPES:
        return _MLSD_TYPES[lowered], None
    # Servers spell symlinks as OS.unix=slink:/target or OS.unix=symlink.
    if lowered.startswith("os.unix=slink") or lowered.startswith("os.unix=symlink"):
        _, _, target = raw.partition(":")
        return FileKind.SYMLINK, target or None
    return FileKind.OTHER, None


def _octal(text: str) -> bool:
    return bool(text) and all(c in "01234567" for c in text)


def fact_time(text: str) -> datetime | None:
    """An MLSD/MDTM time (``YYYYMMDDHHMMSS[.fff]``, UTC); ``None`` if it is not one."""
    if len(text) < 14 or not text[:14].isdigit():
        return None
    stamp = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    fraction = text[14:].lstrip(".")
    if fraction.isdigit():
        stamp += timedelta(microseconds=int(fraction.ljust(6, "0")[:6]))
    return stamp


def parse_list_line(line: str, directory: str, now: datetime | None = None) -> FileInfo | None:
    """One LIST line (Unix or DOS format) as a FileInfo; ``None`` for totals, ``.``, ``..``, junk."""
    line = line.rstrip("\r\n")
    match = _UNIX.match(line)
    if match:
        return _unix_entry(match, directory, now or datetime.now(UTC))
    match = _DOS.match(line)
    if match:
        return _dos_entry(match, directory)
    return None


def _unix_entry(match: re.Match[str], directory: str, now: datetime) -> FileInfo | None:
    kind = {"-": FileKind.FILE, "d": FileKind.DIR, "l": FileKind.SYMLINK}.get(match["type"], FileKind.OTHER)
    name, target = match["name"], None
    if kind is FileKind.SYMLINK and " -> " in name:
        name, target = name.split(" -> ", 1)
    if name in (".", ".."):
        return None
    size = int(match["size"]) if match["size"].isdigit() else None
    return FileInfo(
        name=name,
        path=child_path(directory, name),
        kind=kind,
        size=size,
        mtime=_unix_time(match["month"], int(match["day"]), match["when"], now),
        mode=_permissions(match["perm"]),
        owner=match["owner"],
        group=match["group"],
        link_target=target,
    )


def _unix_time(month_name: str, day: int, when: str, now: datetime) -> datetime | None:
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    try:
        if ":" not in when:
            return datetime(int(when), month, day, tzinfo=UTC)
        parts = [int(p) for p in when.split(":")]
        hour, minute, second = parts[0], parts[1], parts[2] if len(parts) > 2 else 0
        stamp = datetime(now.year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # 29 Feb in a year that has none, or a garbled field
        return None
    # No year means "within the last six months": a date ahead of now is last year's.
    if stamp > now + timedelta(days=1):
        stamp = stamp.replace(year=stamp.year - 1)
    return stamp


def _permissions(text: str) -> int:
    mode = 0
    for index, char in enumerate(text):
        if char not in "-lL" and char not in "ST":  # S/T: special bit without execute
            mode |= 1 << (8 - index)
    # setuid, setgid, sticky sit in the execute columns as s/S, s/S, t/T.
    for column, bit in ((2, 0o4000), (5, 0o2000), (8, 0o1000)):
        if text[column] in "sStT":
            mode |= bit
    return mode


def _dos_entry(match: re.Match[str], directory: str) -> FileInfo | None:
    name = match["name"]
    if name in (".", ".."):
        return None
    is_dir = match["dir"] is not None
    return FileInfo(
        name=name,
        path=child_path(directory, name),
        kind=FileKind.DIR if is_dir else FileKind.FILE,
        size=None if is_dir else int(match["size"].replace(",", "")),
        mtime=_dos_time(match["date"], match["time"]),
    )


def _dos_time(date: str, time: str) -> datetime | None:
    month, day, year = (int(p) for p in date.split("-"))
    if year < 100:
        year += 2000 if year < 70 else 1900
    clock = time.replace(" ", "").upper()
    pm, am = clock.endswith("PM"), clock.endswith("AM")
    hour, minute = (int(p) for p in clock.rstrip("APM").split(":"))
    if pm and hour != 12:
        hour += 12
    if am and hour == 12:
        hour = 0
    try:
        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        return None
