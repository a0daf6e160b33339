"""Folder listings kept in the pack: reused while a folder is unchanged, never hiding a change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hotdeploy_kit import answer, service_source

from portway.environment import Environment
from portway.hotdeploy import cache
from portway.hotdeploy.listing import Scanner

# A short racy window, so a folder written by the test is "old" after a brief pause.
RACY_NS = 50_000_000


@pytest.fixture(autouse=True)
def short_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "RACY_NS", RACY_NS)


def _settle() -> None:
    time.sleep(RACY_NS / 1e9 * 2)


def _tree(root: Path) -> None:
    (root / "sub").mkdir(parents=True)
    (root / "a.py").write_text("")
    (root / "sub" / "b.py").write_text("")
    (root / "notes.txt").write_text("")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "c.py").write_text("")
    _settle()


def _rescan(root: Path, first: Scanner) -> tuple[Scanner, list[str]]:
    again = Scanner(first.listings)
    return again, again.scan(root)


def test_unchanged_folders_are_not_read_again(tmp_path: Path) -> None:
    _tree(tmp_path)
    first = Scanner()
    listed = first.scan(tmp_path)
    assert listed == [str(tmp_path / "a.py"), str(tmp_path / "sub" / "b.py")]
    assert first.reused == 0 and first.changed

    again, relisted = _rescan(tmp_path, first)
    assert relisted == listed
    assert again.reused == 2 and not again.changed


def test_a_file_added_or_removed_in_a_subfolder_is_seen(tmp_path: Path) -> None:
    _tree(tmp_path)
    first = Scanner()
    first.scan(tmp_path)
    (tmp_path / "sub" / "new.py").write_text("")
    (tmp_path / "sub" / "b.py").unlink()
    again, relisted = _rescan(tmp_path, first)
    assert relisted == [str(tmp_path / "a.py"), str(tmp_path / "sub" / "new.py")]
    assert again.reused == 1  # the top folder did not change
    assert again.changed


def test_a_new_subfolder_is_seen(tmp_path: Path) -> None:
    _tree(tmp_path)
    first = Scanner()
    first.scan(tmp_path)
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "d.py").write_text("")
    _, relisted = _rescan(tmp_path, first)
    assert str(tmp_path / "later" / "d.py") in relisted


def test_a_rename_is_seen(tmp_path: Path) -> None:
    _tree(tmp_path)
    first = Scanner()
    first.scan(tmp_path)
    os.replace(tmp_path / "a.py", tmp_path / "renamed.py")
    _, relisted = _rescan(tmp_path, first)
    assert relisted == [str(tmp_path / "renamed.py"), str(tmp_path / "sub" / "b.py")]


def test_a_folder_holding_a_symlink_is_always_read(tmp_path: Path) -> None:
    _tree(tmp_path)
    target = tmp_path.parent / f"{tmp_path.name}-target.py"
    target.write_text("")
    (tmp_path / "sub" / "link.py").symlink_to(target)
    _settle()
    first = Scanner()
    first.scan(tmp_path)
    assert str(tmp_path / "sub") not in first.listings
    again, relisted = _rescan(tmp_path, first)
    assert again.reused == 1 and str(tmp_path / "sub" / "link.py") in relisted


def test_a_folder_changed_just_now_is_not_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 60_000_000_000)  # everything is "just now"
    _tree(tmp_path)
    first = Scanner()
    first.scan(tmp_path)
    assert first.listings == {}


def test_boot_reuses_listings_and_finds_a_file_added_while_down(env: Environment, pickup: Path, boot) -> None:
    (pickup / "sub").mkdir()
    (pickup / "one.py").write_text(service_source("1", cls="One"))
    (pickup / "sub" / "two.py").write_text(service_source("2", cls="Two"))
    _settle()
    boot().close()
    quiet = boot()
    assert quiet.deployer.status()["boot"]["folders_not_listed"] == 2
    quiet.close()

    (pickup / "sub" / "three.py").write_text(service_source("3", cls="Three"))
    rt = boot()
    assert answer(rt, "three.three") == 3 and answer(rt, "two.two") == 2
    assert rt.deployer.status()["boot"]["folders_not_listed"] == 1
