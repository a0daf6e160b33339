"""Every FileClient call against a real sshd; the remote folder is checked on disk."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Any

import pytest

from portway.files import (
    AlreadyExists,
    FileClient,
    FileError,
    FileKind,
    IsADirectory,
    NotADirectory,
    NotFound,
    PermissionDenied,
)


def test_client_is_a_file_client(client: Any) -> None:
    assert isinstance(client, FileClient)


def test_write_read_and_get_info(client: Any, remote_dir: Path) -> None:
    client.write("héllo", f"{remote_dir}/a.txt")
    assert (remote_dir / "a.txt").read_bytes() == "héllo".encode()
    assert client.read(f"{remote_dir}/a.txt") == "héllo".encode()
    info = client.get_info(f"{remote_dir}/a.txt")
    assert info.name == "a.txt"
    assert info.path == f"{remote_dir}/a.txt"
    assert info.kind is FileKind.FILE and info.is_file
    assert info.size == len("héllo".encode())
    assert info.owner == "root" and info.group == "root"
    assert info.mtime is not None
    assert abs(info.mtime.timestamp() - (remote_dir / "a.txt").stat().st_mtime) < 1
    assert info.mode is not None and info.mode & 0o777 == (remote_dir / "a.txt").stat().st_mode & 0o777


def test_write_replaces_atomically_and_leaves_no_temp(client: Any, remote_dir: Path) -> None:
    client.write(b"one", f"{remote_dir}/f")
    client.write(b"two", f"{remote_dir}/f")
    assert (remote_dir / "f").read_bytes() == b"two"
    assert sorted(p.name for p in remote_dir.iterdir()) == ["f"]


def test_list_directory(client: Any, remote_dir: Path) -> None:
    (remote_dir / "b.txt").write_text("b")
    (remote_dir / "a.txt").write_text("aa")
    (remote_dir / "sub").mkdir()
    (remote_dir / "link").symlink_to("a.txt")
    items = client.list(str(remote_dir))
    assert [i.name for i in items] == ["a.txt", "b.txt", "link", "sub"]
    kinds = {i.name: i.kind for i in items}
    assert kinds == {
        "a.txt": FileKind.FILE,
        "b.txt": FileKind.FILE,
        "link": FileKind.SYMLINK,
        "sub": FileKind.DIR,
    }
    assert {i.name: i.size for i in items}["a.txt"] == 2


def test_list_errors(client: Any, remote_dir: Path) -> None:
    with pytest.raises(NotFound) as caught:
        client.list(f"{remote_dir}/nothing")
    assert caught.value.path == f"{remote_dir}/nothing"
    (remote_dir / "file").write_text("x")
    with pytest.raises(FileError):
        client.list(f"{remote_dir}/file")


def test_predicates(client: Any, remote_dir: Path) -> None:
    (remote_dir / "f").write_text("x")
    (remote_dir / "d").mkdir()
    (remote_dir / "l").symlink_to("f")
    assert client.is_file(f"{remote_dir}/f") and not client.is_directory(f"{remote_dir}/f")
    assert client.is_directory(f"{remote_dir}/d") and not client.is_file(f"{remote_dir}/d")
    assert client.is_symlink(f"{remote_dir}/l") and not client.is_symlink(f"{remote_dir}/f")
    assert not client.is_file(f"{remote_dir}/missing")
    assert not client.is_directory(f"{remote_dir}/missing")
    assert not client.is_symlink(f"{remote_dir}/missing")


def test_create_directory_and_symlinks(client: Any, remote_dir: Path) -> None:
    client.create_directory(f"{remote_dir}/new")
    assert (remote_dir / "new").is_dir()
    with pytest.raises(AlreadyExists):
        client.create_directory(f"{remote_dir}/new")
    (remote_dir / "target").write_text("t")
    client.create_symlink("target", f"{remote_dir}/soft")
    assert os.readlink(remote_dir / "soft") == "target"
    info = client.get_info(f"{remote_dir}/soft")
    assert info.kind is FileKind.SYMLINK and info.link_target == "target"
    client.create_hardlink(f"{remote_dir}/target", f"{remote_dir}/hard")
    assert (remote_dir / "hard").stat().st_ino == (remote_dir / "target").stat().st_ino


def test_delete_variants(client: Any, remote_dir: Path) -> None:
    (remote_dir / "f").write_text("x")
    (remote_dir / "l").symlink_to("f")
    tree = remote_dir / "tree" / "deeper"
    tree.mkdir(parents=True)
    (tree / "x").write_text("x")
    (remote_dir / "tree" / "link").symlink_to(remote_dir / "f")

    with pytest.raises(IsADirectory):
        client.delete_file(f"{remote_dir}/tree")
    with pytest.raises(FileError):
        client.delete_file(f"{remote_dir}/l")
    with pytest.raises(NotADirectory):
        client.delete_directory(f"{remote_dir}/f")
    with pytest.raises(FileError):
        client.delete_symlink(f"{remote_dir}/f")

    client.delete_symlink(f"{remote_dir}/l")
    assert not (remote_dir / "l").is_symlink() and (remote_dir / "f").exists()
    client.delete_directory(f"{remote_dir}/tree")
    assert not (remote_dir / "tree").exists()
    assert (remote_dir / "f").exists()  # the symlink inside was removed, not followed
    client.delete_file(f"{remote_dir}/f")
    assert list(remote_dir.iterdir()) == []
    (remote_dir / "d" / "e").mkdir(parents=True)
    client.delete(f"{remote_dir}/d")
    assert not (remote_dir / "d").exists()
    with pytest.raises(NotFound):
        client.delete(f"{remote_dir}/d")


def test_move_and_rename(client: Any, remote_dir: Path) -> None:
    (remote_dir / "a").write_text("a")
    (remote_dir / "b").write_text("b")
    client.move(f"{remote_dir}/a", f"{remote_dir}/b")  # replaces, like posix rename
    assert (remote_dir / "b").read_text() == "a" and not (remote_dir / "a").exists()
    client.rename(f"{remote_dir}/b", f"{remote_dir}/c")
    assert (remote_dir / "c").read_text() == "a"
    with pytest.raises(NotFound):
        client.rename(f"{remote_dir}/missing", f"{remote_dir}/x")


def test_chmod_with_octal_string_and_int(client: Any, remote_dir: Path) -> None:
    (remote_dir / "f").write_text("x")
    client.chmod("600", f"{remote_dir}/f")
    assert (remote_dir / "f").stat().st_mode & 0o777 == 0o600
    client.chmod(0o751, f"{remote_dir}/f")
    assert (remote_dir / "f").stat().st_mode & 0o777 == 0o751
    with pytest.raises(ValueError, match="octal"):
        client.chmod("rwx", f"{remote_dir}/f")


def test_chown_and_chgrp_by_name_and_id(client: Any, remote_dir: Path, sshd: Any) -> None:
    if sshd.password_user is None:
        pytest.skip("could not create a second local user (useradd) to own the file")
    user = pwd.getpwnam(sshd.password_user)
    (remote_dir / "f").write_text("x")
    client.chown(sshd.password_user, f"{remote_dir}/f")
    assert (remote_dir / "f").stat().st_uid == user.pw_uid
    assert (remote_dir / "f").stat().st_gid == 0  # group kept
    client.chgrp(user.pw_gid, f"{remote_dir}/f")
    assert (remote_dir / "f").stat().st_gid == user.pw_gid
    client.chown(0, f"{remote_dir}/f")
    client.chgrp("root", f"{remote_dir}/f")
    assert (remote_dir / "f").stat().st_uid == 0 and (remote_dir / "f").stat().st_gid == 0
    assert client.get_info(f"{remote_dir}/f").owner == "root"
    with pytest.raises(NotFound, match="no user named"):
        client.chown("no-such-user-here", f"{remote_dir}/f")


def test_upload_and_download_file_and_tree(client: Any, remote_dir: Path, tmp_path: Path) -> None:
    local = tmp_path / "local"
    (local / "sub" / "deep").mkdir(parents=True)
    (local / "top.txt").write_text("top")
    (local / "sub" / "s.bin").write_bytes(os.urandom(300_000))
    (local / "sub" / "deep" / "d.txt").write_text("deep")
    client.upload(local / "top.txt", f"{remote_dir}/top-copy.txt")
    assert (remote_dir / "top-copy.txt").read_text() == "top"
    client.upload(local / "top.txt", str(remote_dir))  # into an existing directory
    assert (remote_dir / "top.txt").read_text() == "top"
    client.upload(local, f"{remote_dir}/tree")
    assert (remote_dir / "tree" / "sub" / "s.bin").read_bytes() == (local / "sub" / "s.bin").read_bytes()
    assert (remote_dir / "tree" / "sub" / "deep" / "d.txt").read_text() == "deep"

    back = tmp_path / "back"
    client.download(f"{remote_dir}/tree", back)
    assert (back / "sub" / "s.bin").read_bytes() == (local / "sub" / "s.bin").read_bytes()
    assert (back / "sub" / "deep" / "d.txt").read_text() == "deep"
    client.download_file(f"{remote_dir}/top.txt", tmp_path / "one.txt")
    assert (tmp_path / "one.txt").read_text() == "top"
    with pytest.raises(IsADirectory):
        client.download_file(f"{remote_dir}/tree", tmp_path / "x")
    with pytest.raises(NotFound):
        client.download_file(f"{remote_dir}/missing", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_relative_paths_start_in_default_directory(sshd: Any, remote_dir: Path) -> None:
    from portway_sftp.client import SftpClient
    from portway_sftp.settings import SftpSettings

    with SftpClient.open(SftpSettings(**sshd.settings(default_directory=str(remote_dir)))) as c:
        c.write("x", "rel.txt")
        assert (remote_dir / "rel.txt").read_text() == "x"
        assert [i.name for i in c.list()] == ["rel.txt"]
        assert "Remote working directory: " + str(remote_dir) in c.execute("pwd")


def test_permission_denied_names_path_and_reason(sshd: Any, tmp_path: Path) -> None:
    if sshd.password_user is None:
        pytest.skip("no unprivileged local user to log in as")
    from portway_sftp.client import SftpClient
    from portway_sftp.settings import SftpSettings

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    settings = sshd.settings(username=sshd.password_user, password=sshd.password, private_key_file=None)
    with SftpClient.open(SftpSettings(**settings)) as c:
        with pytest.raises(PermissionDenied) as caught:
            c.write("x", f"{locked}/f")
        assert caught.value.path == f"{locked}/f"
        assert "ermission denied" in caught.value.reason
        with pytest.raises(PermissionDenied):
            c.list(str(locked))
    assert list(locked.iterdir()) == []


def test_disk_usage(client: Any, remote_dir: Path) -> None:
    usage = client.disk_usage(str(remote_dir))
    stats = os.statvfs(remote_dir)
    assert usage.size == stats.f_frsize * stats.f_blocks
    assert 0 < usage.available <= usage.size
