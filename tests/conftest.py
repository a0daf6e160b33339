"""Suite-wide settings. Fixtures for services come from portway.testing (a pytest plugin)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
import structlog
from pgcluster import PgCluster, missing

# Plugin CLI listings and stevedore caches go to a throwaway place, not the user's home.
os.environ.setdefault("XDG_CACHE_HOME", "/tmp/portway-test-cache")


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """Undo logging set-up a test caused (an in-process CLI call configures structlog)."""
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway PostgreSQL cluster for the whole run, started on first use."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    cluster = PgCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """The URL of a fresh, empty PostgreSQL database for this test."""
    return pg_cluster.new_database()
