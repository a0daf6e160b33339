"""Fixtures for cluster tests: three real servers on one throwaway PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_kit import Cluster, make_cluster


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """Three servers on one store, started; stopped (and their rows gone) after the test."""
    group = make_cluster(tmp_path, pg_url)
    try:
        group.start()
        yield group
    finally:
        group.stop()
