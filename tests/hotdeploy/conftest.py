"""Fixtures for hot-deploy tests: a real environment, a booted runtime watching real folders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hotdeploy_kit import make_env

from portway.environment import Environment
from portway.runtime import Runtime


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    return make_env(tmp_path / "env")


@pytest.fixture
def pickup(env: Environment) -> Path:
    return env.pickup_dirs[0]


@pytest.fixture
def boot(env: Environment) -> Iterator[Callable[[], Runtime]]:
    """``boot()`` -> a runtime that deployed the pickup folder and watches it; closed after the test."""
    started: list[Runtime] = []

    def start() -> Runtime:
        rt = Runtime(env)
        started.append(rt)
        rt.boot()
        return rt

    yield start
    for rt in started:
        rt.close()


@pytest.fixture
def rt(boot: Callable[[], Runtime]) -> Runtime:
    return boot()
