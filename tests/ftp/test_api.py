"""Every call of the shared file API against real servers.

Each test runs on pyftpdlib in plain FTP, explicit FTPS, implicit FTPS and
LIST-only (no MLSD) mode, and on vsftpd with FTPS and required TLS session
reuse. ``local`` is the server-side folder behind the client's login
directory, so results are checked on disk, not only through the client.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portway.files import (
    AlreadyExists,
    FileClient,
    FileKind,
    IsADirectory,
    NotADirectory,
    NotFound,
    Unsupported,
)
from portway.filescript import ScriptFailed
from portway_ftp.client import FtpClient


@dataclass
class Remote:
    client: FtpClient
    local: Path
    kind: str


@pytest.fixture(params=["plain", "explicit", "implicit", "listonly", "vsftpd"])
def remote(request: pytest.FixtureRequest) -> Iterator[Remote]:
    if request.param == "vsftpd":
        vsftpd = request.getfixturevalue("vsftpd")
        local, seen = request.getfixturevalue("vsftpd_dir")
        client = FtpClient.open(vsftpd.settings(directory=seen))
    else:
        servers = request.getfixturevalue("servers")
        local = servers.root
        client = servers.open(request.param)
    try:
        yield Remote(client, local, request.param)
    finally:
        client.close()


def test_client_satisfies_the_shared_protocol(remote: Remote) -> None:
    assert isinstance(remote.client, FileClient)


def test_write_and_read(remote: Remote) -> None:
    c = remote.client
    c.write(b"\x00binary\r\n\xff", "data.bin")
    c.write("zażółć", "text.txt")
    assert (remote.local / "data.bin").read_bytes() == b"\x00binary\r\n\xff"
    assert c.read("text.txt") == "zażółć".encode()
    c.write(b"second version", "data.bin")
    assert c.read("data.bin") == b"second version"
    assert sorted(p.name for p in remote.local.iterdir()) == ["data.bin", "text.txt"]  # no temp files


def test_read_missing_and_directory(remote: Remote) -> None:
    c = remote.client
    with pytest.raises(NotFound) as missing:
        c.read("nope.txt")
    assert missing.value.path.endswith("/nope.txt")
    assert missing.value.reply.startswith("550")  # type: ignore[attr-defined]
    c.create_directory("folder")
    with pytest.raises((IsADirectory, NotFound)):
        c.read("folder")


def test_upload_and_download_file(remote: Remote, tmp_path: Path) -> None:
    c = remote.client
    source = tmp_path / "in.dat"
    source.write_bytes(os.urandom(300_000))
    c.upload_file(source, "up.dat")
    assert (remote.local / "up.dat").read_bytes() == source.read_bytes()
    target = tmp_path / "out.dat"
    c.download_file("up.dat", target)
    assert target.read_bytes() == source.read_bytes()
    into = tmp_path / "into"
    into.mkdir()
    c.download_file("up.dat", into)  # a local folder: keep the remote name
    assert (into / "up.dat").read_bytes() == source.read_bytes()
    assert not [p for p in tmp_path.rglob("*portway-part*")]


def test_preserve_keeps_times_and_mode(remote: Remote, tmp_path: Path) -> None:
    c = remote.client
    source = tmp_path / "old.txt"
    source.write_bytes(b"old")
    stamp = 1_600_000_000
    os.utime(source, (stamp, stamp))
    source.chmod(0o640)
    c.upload_file(source, "old.txt", preserve=True)
    on_server = (remote.local / "old.txt").stat()
    assert stat.S_IMODE(on_server.st_mode) == 0o640
    assert int(on_server.st_mtime) == stamp  # MFMT on pyftpdlib, MDTM with a time on vsftpd
    back = tmp_path / "back.txt"
    c.download_file("old.txt", back, preserve=True)
    assert stat.S_IMODE(back.stat().st_mode) == 0o640
    assert int(back.stat().st_mtime) == int(on_server.st_mtime)


def test_upload_and_download_tree(remote: Remote, tmp_path: Path) -> None:
    c = remote.client
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "top.txt").write_text("top")
    (tree / "a" / "mid.txt").write_text("mid")
    (tree / "a" / "b" / "deep.txt").write_text("deep")
    c.upload(tree, "tree")
    assert (remote.local / "tree" / "a" / "b" / "deep.txt").read_text() == "deep"
    c.upload(tree / "top.txt", "single.txt")  # a file through the same call
    assert (remote.local / "single.txt").read_text() == "top"
    back = tmp_path / "back"
    c.download("tree", back)
    found = sorted(str(p.relative_to(back)) for p in back.rglob("*"))
    assert found == ["a", "a/b", "a/b/deep.txt", "a/mid.txt", "top.txt"]
    assert (back / "a" / "b" / "deep.txt").read_text() == "deep"


def test_list_and_info(remote: Remote) -> None:
    c = remote.client
    c.create_directory("sub")
    c.write(b"12345", "sub/five.txt")
    c.create_directory("sub/inner")
    entries = c.list("sub")
    assert [(e.name, e.kind, e.size) for e in entries if e.kind is FileKind.FILE] == [
        ("five.txt", FileKind.FILE, 5)
    ]
    assert [e.name for e in entries] == ["five.txt", "inner"]
    home = c.home()
    info = c.get_info("sub/five.txt")
    assert info.path == f"{home.rstrip('/')}/sub/five.txt"
    assert info.name == "five.txt" and info.is_file and info.size == 5
    assert info.mode == stat.S_IMODE((remote.local / "sub" / "five.txt").stat().st_mode)
    assert info.mtime is not None and abs(info.mtime.timestamp() - time.time()) < 120
    assert c.get_info("sub").is_dir
    assert c.is_file("sub/five.txt") and not c.is_directory("sub/five.txt")
    assert c.is_directory("sub/inner") and not c.is_file("sub/inner")
    assert not c.is_symlink("sub/five.txt")
    assert not c.is_file("missing") and not c.is_directory("missing")
    assert [e.name for e in c.list()] == ["sub"]  # "." is the login directory
    with pytest.raises(NotFound):
        c.get_info("sub/missing.txt")
    with pytest.raises(NotFound):
        c.list("missing-dir")
    with pytest.raises(NotADirectory):
        c.list("sub/five.txt")


def test_names_with_spaces_and_unicode(remote: Remote) -> None:
    c = remote.client
    c.create_directory("with space")
    c.write(b"x", "with space/żółw [1].txt")
    assert [e.name for e in c.list("with space")] == ["żółw [1].txt"]
    assert (remote.local / "with space" / "żółw [1].txt").read_bytes() == b"x"
    assert c.get_info("with space/żółw [1].txt").size == 1


def test_create_directory(remote: Remote) -> None:
    c = remote.client
    c.create_directory("new")
    assert (remote.local / "new").is_dir()
    with pytest.raises(AlreadyExists):
        c.create_directory("new")
    c.write(b"", "file")
    with pytest.raises(AlreadyExists):
        c.create_directory("file")


def test_rename_and_move(remote: Remote) -> None:
    c = remote.client
    c.write(b"one", "one.txt")
    c.rename("one.txt", "uno.txt")
    assert (remote.local / "uno.txt").read_bytes() == b"one"
    c.create_directory("dest")
    c.move("uno.txt", "dest/moved.txt")
    assert (remote.local / "dest" / "moved.txt").read_bytes() == b"one"
    assert not (remote.local / "uno.txt").exists()
    with pytest.raises(NotFound):
        c.rename("not-there.txt", "x.txt")


def test_delete_calls(remote: Remote) -> None:
    c = remote.client
    c.create_directory("d")
    c.create_directory("d/e")
    c.write(b"1", "d/e/f.txt")
    c.write(b"2", "g.txt")
    with pytest.raises(IsADirectory):
        c.delete_file("d")
    with pytest.raises(NotADirectory):
        c.delete_directory("g.txt")
    c.delete_file("g.txt")
    assert not (remote.local / "g.txt").exists()
    with pytest.raises(NotFound):
        c.delete_file("g.txt")
    c.delete_directory("d")  # recursive
    assert not (remote.local / "d").exists()
    c.create_directory("h")
    c.write(b"3", "h/i.txt")
    c.write(b"4", "j.txt")
    c.delete("h")
    c.delete("j.txt")
    assert list(remote.local.iterdir()) == []
    with pytest.raises(NotFound):
        c.delete("h")


def test_chmod(remote: Remote) -> None:
    c = remote.client
    c.write(b"x", "mode.txt")
    c.chmod("600", "mode.txt")
    assert stat.S_IMODE((remote.local / "mode.txt").stat().st_mode) == 0o600
    c.chmod(0o644, "mode.txt")
    assert c.get_info("mode.txt").mode == 0o644
    with pytest.raises(ValueError, match="octal"):
        c.chmod("rwx", "mode.txt")
    with pytest.raises(NotFound):
        c.chmod("644", "missing.txt")


def test_what_ftp_cannot_do(remote: Remote) -> None:
    c = remote.client
    c.write(b"x", "t.txt")
    for call in (
        lambda: c.chown("nobody", "t.txt"),
        lambda: c.chgrp(0, "t.txt"),
        lambda: c.create_hardlink("t.txt", "hard.txt"),
        lambda: c.create_symlink("t.txt", "soft.txt"),  # neither pyftpdlib nor vsftpd has SITE SYMLINK
    ):
        with pytest.raises(Unsupported):
            call()
    assert sorted(p.name for p in remote.local.iterdir()) == ["t.txt"]


def test_ping(remote: Remote) -> None:
    assert remote.client.ping() > 0


def test_execute_script(remote: Remote, tmp_path: Path) -> None:
    c = remote.client
    (tmp_path / "local.txt").write_text("from local")
    script = f"""
        mkdir work
        cd work
        put {tmp_path / "local.txt"} up.txt
        ls
        rename up.txt renamed.txt
        chmod 640 renamed.txt
        get renamed.txt {tmp_path / "got.txt"}
        -rm no-such-file
        pwd
    """
    transcript = c.execute(script)
    assert "ftp> put" in transcript and "renamed" not in transcript.split("ftp> ls")[0]
    assert "sftp>" not in transcript
    assert "up.txt" in transcript
    assert (tmp_path / "got.txt").read_text() == "from local"
    assert stat.S_IMODE((remote.local / "work" / "renamed.txt").stat().st_mode) == 0o640
    assert f"Remote working directory: {c.home().rstrip('/')}/work" in transcript
    with pytest.raises(ScriptFailed) as failed:
        c.execute("ls\nrm no-such-file\nmkdir never")
    assert failed.value.line == 2
    assert not (remote.local / "never").exists()


def test_operations_after_a_failure_keep_working(remote: Remote) -> None:
    c = remote.client
    with pytest.raises(NotFound):
        c.read("missing")
    c.write(b"still fine", "ok.txt")
    assert c.read("ok.txt") == b"still fine"
    assert c.ping() > 0


def _site_symlink(self: Any, line: str) -> None:
    """SITE SYMLINK target link, as ProFTPD's mod_site_misc offers it."""
    target, _, link = line.partition(" ")
    os.symlink(target, self.fs.ftp2fs(link))
    self.respond("200 SITE SYMLINK command successful.")


def test_symlinks_where_the_server_offers_site_symlink(make_servers: Any) -> None:
    from pyftpdlib.handlers import FTPHandler

    commands = dict(FTPHandler.proto_cmds)
    commands["SITE SYMLINK"] = {"perm": None, "auth": True, "arg": True, "help": "SITE SYMLINK target link"}
    for listing in ("MLSD", "MLST"):  # pyftpdlib's MLSD follows links; LIST shows them
        commands.pop(listing)
    servers = make_servers({"proto_cmds": commands, "ftp_SITE_SYMLINK": _site_symlink})
    (servers.root / "t.txt").write_bytes(b"target")
    with servers.open("listonly") as client:
        client.create_symlink("t.txt", "soft.txt")
        assert os.readlink(servers.root / "soft.txt") == "t.txt"
        assert client.is_symlink("soft.txt") and not client.is_symlink("t.txt")
        info = client.get_info("soft.txt")
        assert info.kind is FileKind.SYMLINK and info.link_target == "t.txt"
        assert client.read("soft.txt") == b"target"
        client.delete_symlink("soft.txt")
        assert not (servers.root / "soft.txt").is_symlink()
        assert (servers.root / "t.txt").read_bytes() == b"target"


def _opts_without_utf8(self: Any, line: str) -> None:
    """An old server: no UTF8 in FEAT and OPTS UTF8 ON refused."""
    self.respond("501 Unknown option.")


@pytest.mark.parametrize(("fallback", "on_disk"), [(True, "café.txt"), (False, "cafÃ©.txt")])
def test_latin1_fallback_for_servers_without_utf8(make_servers: Any, fallback: bool, on_disk: str) -> None:
    servers = make_servers({"encoding": "latin-1", "ftp_OPTS": _opts_without_utf8})
    with servers.open("plain", latin1_fallback=fallback) as client:
        assert "UTF8" not in client.features
        client.write(b"x", "café.txt")
        assert [p.name for p in servers.root.iterdir()] == [on_disk]
        assert [i.name for i in client.list()] == ["café.txt"]  # names round-trip either way
