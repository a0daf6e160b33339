"""docs/file-pickup.md names every setting of every pickup channel type, with its default."""

from __future__ import annotations

from pathlib import Path

import pytest

from portway.plugins import load_plugins

DOC = (Path(__file__).resolve().parents[2] / "docs" / "file-pickup.md").read_text(encoding="utf-8")
PLUGINS = load_plugins(())


@pytest.mark.parametrize("type_name", ["file", "sftp", "ftp"])
def test_every_setting_is_in_the_settings_table(type_name: str) -> None:
    model = PLUGINS.channel_type(type_name).settings
    rows = {line.split("`")[1] for line in DOC.splitlines() if line.startswith("| `")}
    missing = sorted(set(model.model_fields) - rows)
    assert not missing, f"docs/file-pickup.md has no row for {type_name} settings {missing}"


def test_the_camel_names_are_there() -> None:
    camels = ("readLock", "idempotent", "move", "moveFailed", "doneFileName", "include", "exclude", "noop")
    for camel in camels:
        assert f"`{camel}" in DOC, camel
