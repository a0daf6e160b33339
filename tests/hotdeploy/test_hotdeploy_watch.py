"""Saving, renaming, copying, moving and deleting files in a watched pickup folder (real inotify)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hotdeploy_kit import answer, failure, make_env, service_source, wait_until

from portway.errors import NotFoundError
from portway.runtime import Runtime


def test_boot_deploys_files_already_there(env, pickup: Path, boot) -> None:
    (pickup / "hello.py").write_text(service_source("'v1'"))
    rt = boot()
    assert answer(rt, "hello.hello") == "v1"
    assert rt.deployer.status()["watching"] is True


def test_new_file_goes_live(rt: Runtime, pickup: Path) -> None:
    (pickup / "fresh.py").write_text(service_source("'new'", cls="Fresh"))
    wait_until(lambda: answer(rt, "fresh.fresh") == "new")


def test_save_in_place_redeploys(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    path.write_text(service_source("'v1'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v1")
    with open(path, "w") as handle:  # truncate + write, as most editors' plain save
        handle.write(service_source("'v2'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v2")


def test_slow_writer_is_deployed_at_close_not_half_written(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    path.write_text(service_source("'v1'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v1")
    source = service_source("'v2'")
    with open(path, "w") as handle:
        handle.write(source[:40])  # cut inside the class: not valid Python yet
        handle.flush()
        time.sleep(0.3)  # far longer than the debounce: a deploy now would see half a file
        assert failure(rt, path) is None
        assert answer(rt, "hello.hello") == "v1"
        handle.write(source[40:])
    wait_until(lambda: answer(rt, "hello.hello") == "v2")
    assert failure(rt, path) is None


def test_atomic_rename_save_vscode_style(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    path.write_text(service_source("'v1'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v1")
    tmp = pickup / ".hello.py.tmp-1234"
    tmp.write_text(service_source("'v2'"))
    os.replace(tmp, path)
    wait_until(lambda: answer(rt, "hello.hello") == "v2")
    assert rt.deployer.status()["failures"] == []


def test_vim_style_save_backup_rename_then_write(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    path.write_text(service_source("'v1'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v1")
    # vim (writebackup, backupcopy=auto): probe file 4913, swap file, rename the
    # original to hello.py~, write a new hello.py, remove the backup.
    (pickup / "4913").write_text("")
    (pickup / "4913").unlink()
    (pickup / ".hello.py.swp").write_bytes(b"\x00vim swap")
    os.rename(path, pickup / "hello.py~")
    path.write_text(service_source("'v2'"))
    (pickup / "hello.py~").unlink()
    (pickup / ".hello.py.swp").unlink()
    wait_until(lambda: answer(rt, "hello.hello") == "v2")
    status = rt.deployer.status()
    assert status["failures"] == []
    assert [s["source"] for s in status["services"] if s["name"] == "hello.hello"] == [str(path)]


def test_editor_temp_and_lock_files_are_ignored(rt: Runtime, pickup: Path) -> None:
    (pickup / "hello.py~").write_text("this is not python")
    (pickup / ".hello.py.swp").write_bytes(b"\xff\xfe")
    (pickup / "#hello.py#").write_text("emacs autosave (((")
    os.symlink("user@host.1234:1700000000", pickup / ".#hello.py")  # emacs lock: a dangling symlink
    (pickup / "hello.py.kate-swp").write_bytes(b"\x00")
    (pickup / "hello.py___jb_tmp___").write_text("broken (")
    (pickup / "notes.txt").write_text("not a service")
    # A real file after them, to know the watcher has seen everything before it.
    (pickup / "marker.py").write_text(service_source("'here'", cls="Marker"))
    wait_until(lambda: answer(rt, "marker.marker") == "here")
    status = rt.deployer.status()
    assert status["failures"] == []
    assert {s["source"] for s in status["services"]} == {"builtin:portway", str(pickup / "marker.py")}


def test_cp_from_elsewhere(rt: Runtime, pickup: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(service_source("'copied'", cls="Copied"))
    subprocess.run(["cp", str(outside), str(pickup / "copied.py")], check=True)
    wait_until(lambda: answer(rt, "copied.copied") == "copied")
    outside.write_text(service_source("'copied again'", cls="Copied"))
    subprocess.run(["cp", str(outside), str(pickup / "copied.py")], check=True)
    wait_until(lambda: answer(rt, "copied.copied") == "copied again")


def test_mv_in_and_out(rt: Runtime, pickup: Path, tmp_path: Path) -> None:
    outside = tmp_path / "moved.py"
    outside.write_text(service_source("'moved in'", cls="Moved"))
    subprocess.run(["mv", str(outside), str(pickup / "moved.py")], check=True)
    wait_until(lambda: answer(rt, "moved.moved") == "moved in")
    subprocess.run(["mv", str(pickup / "moved.py"), str(outside)], check=True)
    wait_until(lambda: "moved.moved" not in rt.registry)


def test_rename_within_folder_moves_the_service(rt: Runtime, pickup: Path) -> None:
    (pickup / "first.py").write_text(service_source("'same'", name="named.svc"))
    wait_until(lambda: answer(rt, "named.svc") == "same")
    os.rename(pickup / "first.py", pickup / "second.py")
    wait_until(lambda: rt.registry.get("named.svc").source == str(pickup / "second.py"))
    assert rt.deployer.status()["failures"] == []


def test_git_checkout_switches_versions(rt: Runtime, pickup: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git = ["git", "-C", str(pickup), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (pickup / "hello.py").write_text(service_source("'one'"))
    subprocess.run([*git, "add", "hello.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    wait_until(lambda: answer(rt, "hello.hello") == "one")
    (pickup / "hello.py").write_text(service_source("'two'"))
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    wait_until(lambda: answer(rt, "hello.hello") == "two")
    subprocess.run([*git, "checkout", "-q", "HEAD~1", "--", "hello.py"], check=True)
    wait_until(lambda: answer(rt, "hello.hello") == "one")
    # Nothing under .git was taken for a service.
    assert rt.deployer.status()["failures"] == []


def test_new_subfolder_and_nested_files(rt: Runtime, pickup: Path) -> None:
    nested = pickup / "billing" / "v2"
    nested.mkdir(parents=True)
    (nested / "invoices.py").write_text(service_source("'nested'", cls="Invoices"))
    wait_until(lambda: answer(rt, "invoices.invoices") == "nested")


def test_folder_moved_in_out_and_deleted(rt: Runtime, pickup: Path, tmp_path: Path) -> None:
    outside = tmp_path / "crm"
    outside.mkdir()
    (outside / "customers.py").write_text(service_source("'c'", cls="Customers"))
    (outside / "orders.py").write_text(service_source("'o'", cls="Orders"))
    os.rename(outside, pickup / "crm")
    wait_until(lambda: answer(rt, "customers.customers") == "c" and answer(rt, "orders.orders") == "o")
    os.rename(pickup / "crm", outside)
    wait_until(lambda: "customers.customers" not in rt.registry and "orders.orders" not in rt.registry)
    os.rename(outside, pickup / "crm")
    wait_until(lambda: "orders.orders" in rt.registry)
    shutil.rmtree(pickup / "crm")
    wait_until(lambda: "customers.customers" not in rt.registry and "orders.orders" not in rt.registry)
    assert rt.deployer.status()["failures"] == []


def test_delete_undeploys(rt: Runtime, pickup: Path) -> None:
    path = pickup / "gone.py"
    path.write_text(service_source("'here'", cls="Gone"))
    wait_until(lambda: answer(rt, "gone.gone") == "here")
    path.unlink()
    wait_until(lambda: "gone.gone" not in rt.registry)
    with pytest.raises(NotFoundError):
        rt.invoke("gone.gone")
    assert failure(rt, path) is None


def test_every_configured_folder_is_watched(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env", dirs=["services", "more/services"])
    rt = Runtime(env)
    rt.boot()
    try:
        (env.root / "more" / "services" / "extra.py").write_text(service_source("'extra'", cls="Extra"))
        wait_until(lambda: answer(rt, "extra.extra") == "extra")
    finally:
        rt.close()
