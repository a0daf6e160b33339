"""Listings: MLSD facts and LIST lines as servers really print them, and MLSD == LIST."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest

from portway.files import FileInfo, FileKind
from portway_ftp.listing import fact_time, parse_facts, parse_list_line

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
FILE, DIR = FileKind.FILE, FileKind.DIR


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_mlsd_facts() -> None:
    info = parse_facts(
        "modify=20261125153040.123;perm=adfrw;size=1024;type=file;unix.mode=0644; a b.txt", "/in"
    )
    assert info == FileInfo(
        name="a b.txt",
        path="/in/a b.txt",
        kind=FileKind.FILE,
        size=1024,
        mtime=datetime(2026, 11, 25, 15, 30, 40, 123000, tzinfo=UTC),
        mode=0o644,
    )


def test_mlsd_facts_variants() -> None:
    assert parse_facts("type=cdir;modify=20260101000000; .", "/x") is None
    assert parse_facts("type=pdir; ..", "/x") is None
    link = parse_facts("type=OS.unix=slink:/etc/target;size=11; link", "/")
    assert link is not None and link.kind is FileKind.SYMLINK and link.link_target == "/etc/target"
    owned = parse_facts("type=dir;unix.owner=ada;unix.group=staff;unix.mode=0o2755; d", "/")
    assert owned is not None and (owned.owner, owned.group, owned.mode) == ("ada", "staff", 0o2755)
    assert parse_facts("Type=DIR;Size=0; Upper", "/").kind is FileKind.DIR  # type: ignore[union-attr]
    assert parse_facts("no-space-so-no-name", "/") is None


def test_mdtm_times() -> None:
    assert fact_time("20200913122640") == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)
    assert fact_time("garbage") is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (  # vsftpd, numeric ids
            "-rw-r--r--    1 1001     1001         5000 Nov 25 15:24 a.txt",
            (
                "a.txt",
                FileKind.FILE,
                5000,
                _at(2026, 11, 25, 15, 24),
                0o644,
                "1001",
                "1001",
                None,
            ),
        ),
        (  # an older file: year instead of time
            "drwxr-x---    2 ftp      ftp          4096 Mar  3  2021 old dir",
            ("old dir", FileKind.DIR, 4096, datetime(2021, 3, 3, tzinfo=UTC), 0o750, "ftp", "ftp", None),
        ),
        (  # December seen in November: last year
            "-rw-------   1 ada  staff  12 Dec 30 23:59 late.log",
            (
                "late.log",
                FileKind.FILE,
                12,
                _at(2025, 12, 30, 23, 59),
                0o600,
                "ada",
                "staff",
                None,
            ),
        ),
        (  # a symlink
            "lrwxrwxrwx    1 0        0               7 May 20  2025 bin -> usr/bin",
            ("bin", FileKind.SYMLINK, 7, datetime(2025, 5, 20, tzinfo=UTC), 0o777, "0", "0", "usr/bin"),
        ),
        (  # no group column, setuid and sticky bits
            "-rwsr-xr-t 1 root 123 Jan 02 2024 odd",
            ("odd", FileKind.FILE, 123, datetime(2024, 1, 2, tzinfo=UTC), 0o5755, "root", None, None),
        ),
        (  # ACL marker after the mode
            "-rw-r--r--+ 1 ada staff 1 Nov 25 09:00 acl.txt",
            (
                "acl.txt",
                FileKind.FILE,
                1,
                _at(2026, 11, 25, 9, 0),
                0o644,
                "ada",
                "staff",
                None,
            ),
        ),
    ],
)
def test_unix_list_lines(line: str, expected: tuple[Any, ...]) -> None:
    info = parse_list_line(line, "/base", NOW)
    assert info is not None
    name, kind, size, mtime, mode, owner, group, target = expected
    assert info == FileInfo(name, f"/base/{name}", kind, size, mtime, mode, owner, group, target)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "11-25-26  03:22PM       <DIR>          Reports 2026",
            ("Reports 2026", FileKind.DIR, None, (2026, 11, 25, 15, 22)),
        ),
        (
            "01-02-99  12:05AM                 1,234 old.txt",
            ("old.txt", FileKind.FILE, 1234, (1999, 1, 2, 0, 5)),
        ),
        (
            "07-04-2024  14:30               99 iis4.csv",
            ("iis4.csv", FileKind.FILE, 99, (2024, 7, 4, 14, 30)),
        ),
    ],
)
def test_dos_list_lines(line: str, expected: tuple[Any, ...]) -> None:
    info = parse_list_line(line, "/", NOW)
    name, kind, size, when = expected
    assert info == FileInfo(name, f"/{name}", kind, size, datetime(*when, tzinfo=UTC))


@pytest.mark.parametrize(
    "line", ["total 12", "", "drwxr-xr-x 2 a b 4096 Nov 25 15:00 .", "random words here"]
)
def test_lines_that_are_not_entries(line: str) -> None:
    assert parse_list_line(line, "/", NOW) is None


def test_mlsd_and_list_servers_give_the_same_file_info(servers: Any) -> None:
    root = servers.root
    (root / "docs").mkdir()
    (root / "docs" / "plan.txt").write_bytes(b"x" * 1234)
    (root / "docs" / "plan.txt").chmod(0o640)
    (root / "docs" / "archive").mkdir()
    (root / "docs" / "archive").chmod(0o750)
    (root / "docs" / "empty").write_bytes(b"")
    # LIST has minutes (recent files) or days (older ones): give the files such times.
    recent = int(datetime.now(UTC).replace(second=0, microsecond=0).timestamp()) - 3600
    os.utime(root / "docs" / "plan.txt", (recent, recent))
    os.utime(root / "docs" / "archive", (recent, recent))
    old = int(datetime(2023, 5, 17, tzinfo=UTC).timestamp())
    os.utime(root / "docs" / "empty", (old, old))

    with servers.open("plain") as mlsd, servers.open("listonly") as listing:
        assert mlsd._mlsd and not listing._mlsd
        by_mlsd = mlsd.list("docs")
        by_list = listing.list("docs")
        # pyftpdlib's MLSD gives numeric uid/gid, its LIST user names: compare all else.
        assert [_without_ids(i) for i in by_mlsd] == [_without_ids(i) for i in by_list]
        assert [i.name for i in by_mlsd] == ["archive", "empty", "plan.txt"]
        plan = mlsd.get_info("docs/plan.txt")
        assert _without_ids(plan) == _without_ids(listing.get_info("docs/plan.txt"))
        assert plan.mode == 0o640 and plan.size == 1234
        assert plan.mtime == datetime.fromtimestamp(recent, UTC)


def _without_ids(info: FileInfo) -> FileInfo:
    return FileInfo(
        info.name, info.path, info.kind, info.size, info.mtime, info.mode, None, None, info.link_target
    )
