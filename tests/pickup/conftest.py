"""Fixtures of the pickup channel tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from pickup_kit import RECORDER, Recorded

from portway.environment import Environment
from portway.testing import allow_files


@pytest.fixture
def portway_env(portway_env: Environment, tmp_path: Path) -> Environment:
    # A file channel may watch only folders in [security] file_roots: the test's folders are there.
    return allow_files(portway_env, tmp_path)


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
