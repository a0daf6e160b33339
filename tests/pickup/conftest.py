"""Fixtures of the pickup channel tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from pickup_kit import RECORDER, Recorded


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    return Recorded(tmp_path / "recorded.jsonl")


@pytest.fixture
def recorder_source(recorded: Recorded) -> str:
    return RECORDER.format(log=str(recorded.path))


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder
