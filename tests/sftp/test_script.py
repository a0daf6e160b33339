"""The batch interpreter against real ``sftp -b`` on the same sshd and the same files."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from portway.filescript import ScriptFailed, run_script

OLD = time.mktime((2025, 1, 15, 10, 30, 0, 0, 0, -1))  # more than six months ago: shown with the year
RECENT = time.time() - 3600


def _reset(base: Path) -> tuple[Path, Path]:
    """The same remote and local trees, with the same times, every time."""
    work, local = base / "work", base / "local"
    for folder in (work, local):
        if folder.exists():
            shutil.rmtree(folder)
    (work / "sub").mkdir(parents=True)
    (work / "a.txt").write_text("alpha\n")
    (work / "b.txt").write_text("bravo bravo\n")
    (work / ".hidden").write_text("h")
    (work / "sub" / "inner.dat").write_bytes(b"1234")
    (work / "link").symlink_to("a.txt")
    for number in range(12):
        (work / f"file_{number:02d}.log").write_text("x" * number)
    (local / "tree" / "inner").mkdir(parents=True)
    (local / "up.txt").write_text("uploaded\n")
    (local / "tree" / "t.txt").write_text("t")
    (local / "tree" / "inner" / "i.txt").write_text("i")
    for path in [*work.rglob("*"), *local.rglob("*")]:
        os.utime(path, (OLD, OLD if path.name != "b.txt" else RECENT), follow_symlinks=False)
    os.utime(work / "sub", (OLD, OLD))
    os.utime(work, (OLD, OLD))
    os.utime(base, (OLD, OLD))
    return work, local


def _script(work: Path, local: Path) -> str:
    return f"""pwd
cd {work}
pwd
ls
ls -1
ls -l
ls -la
ls sub
ls -l sub
ls sub/
ls *.txt
ls -l *.txt
ls file_0*
ls a.txt
ls {work}/sub
# a comment line is skipped
-rm nothere
-cd nothere
-cd a.txt
-get nothere
-get sub {local}/sub-file
-put {local}/tree
-put {local}/missing.txt
-ls nothere
-rename nothere x
-chmod 644 nothere
-foo bar
mkdir newdir
rename newdir newdir2
rmdir newdir2
get a.txt {local}/a-copy.txt
get -r sub {local}/sub-copy
put -p {local}/up.txt
put -r {local}/tree tree-up
ls -1 tree-up
ls -l up.txt
chmod 600 a.txt
ls -l a.txt
ln -s a.txt link2
ln a.txt hard
ls -1
rm link2
rm hard
@pwd
lcd {local}
lpwd
cd ..
cd {work}
rm nothere2
pwd
"""


def _real_sftp(sshd: Any, script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    batch = folder / "batch.txt"
    batch.write_text(script)
    return subprocess.run(
        [*sshd.sftp_command("-b", str(batch))],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        env={**os.environ, "TZ": os.environ.get("TZ", "UTC")},
    )


def test_transcript_matches_openssh_sftp(client: Any, sshd: Any, tmp_path: Path) -> None:
    base = tmp_path / "same"
    base.mkdir()
    work, local = _reset(base)
    script = _script(work, local)
    real = _real_sftp(sshd, script, tmp_path)
    assert real.returncode == 1, real.stderr  # the last rm fails and stops the script
    real_tree = sorted(str(p.relative_to(base)) for p in base.rglob("*"))

    work, local = _reset(base)
    with pytest.raises(ScriptFailed) as caught:
        run_script(client, script, local_dir=tmp_path)
    ours = caught.value.transcript
    assert ours.output.splitlines() == real.stdout.splitlines()
    assert ours.errors.splitlines() == real.stderr.splitlines()
    assert caught.value.line == script.splitlines().index("rm nothere2") + 1
    assert caught.value.path == f"{work}/nothere2"
    assert sorted(str(p.relative_to(base)) for p in base.rglob("*")) == real_tree
    assert (local / "sub-copy" / "inner.dat").read_bytes() == b"1234"
    assert (work / "up.txt").stat().st_mtime == OLD  # put -p kept the time


def test_execute_returns_transcript_and_ignores_dash_failures(client: Any, remote_dir: Path) -> None:
    (remote_dir / "x").write_text("x")
    text = client.execute(f"cd {remote_dir}\n-rm missing\nls")
    assert text.splitlines() == [
        f"sftp> cd {remote_dir}",
        "sftp> -rm missing",
        f"remote delete {remote_dir}/missing: No such file or directory",
        "sftp> ls",
        "x".ljust(80 // (80 // 3)),
    ]


def test_df_prints_sizes(client: Any, remote_dir: Path) -> None:
    lines = client.execute(f"df {remote_dir}\ndf -h {remote_dir}").splitlines()
    assert lines[1].split() == ["Size", "Used", "Avail", "(root)", "%Capacity"]
    size_kib = int(lines[2].split()[0])
    stats = os.statvfs(remote_dir)
    assert size_kib == stats.f_frsize * stats.f_blocks // 1024
    assert lines[5].split()[0][-2:] in ("KB", "MB", "GB", "TB")


def test_bad_script_lines(client: Any) -> None:
    with pytest.raises(ScriptFailed, match="chmod"):
        client.execute("chmod 9z9 x")
    with pytest.raises(ScriptFailed) as caught:
        client.execute("pwd\nfrobnicate")
    assert caught.value.line == 2
    assert "Invalid command." in str(caught.value.transcript)


def test_prompt_is_the_callers_and_echoes_comments_and_silences_at(client: Any, remote_dir: Path) -> None:
    transcript = run_script(client, f"# listing\n@cd {remote_dir}\npwd", prompt="ftp")
    assert transcript.output.splitlines() == [
        "ftp> # listing",
        "ftp> pwd",
        f"Remote working directory: {remote_dir}",
    ]


def test_ls_a_shows_dot_entries_the_server_describes(client: Any, remote_dir: Path) -> None:
    (remote_dir / "f.txt").write_text("x")
    lines = client.execute(f"ls -la {remote_dir}").splitlines()[1:]
    names = [line.rsplit(" ", 1)[1] for line in lines]
    assert names == [f"{remote_dir}/.", f"{remote_dir}/..", f"{remote_dir}/f.txt"]
    assert all(line.startswith(("drwx", "-rw")) for line in lines), lines
