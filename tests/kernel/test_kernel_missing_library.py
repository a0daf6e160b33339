"""A plugin whose client library is missing loads (it imports the library on first connect), and says so:
`portway plugins` names the missing package, and a ping fails naming it, never a bare ImportError."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portway.testing import free_port

PLUGIN = """
from pydantic import BaseModel, Field

from portway import ConnectionType, hookimpl


class Settings(BaseModel):
    host: str = Field(description="Server host")


def connect(settings: Settings) -> object:
    import no_such_client_lib  # imported on first connect, as docs/plugins.md says

    return no_such_client_lib.open(settings.host)


@hookimpl
def portway_connection_types() -> list[ConnectionType]:
    return [ConnectionType("lazy", Settings, connect, lambda client: None, lambda client: None)]
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> dict[str, str]:
    root = tmp_path / "site"
    (root / "lazy_plugin").mkdir(parents=True)
    (root / "lazy_plugin" / "__init__.py").write_text("")
    (root / "lazy_plugin" / "plugin.py").write_text(PLUGIN)
    dist = root / "lazy_plugin-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: lazy-plugin\nVersion: 0.1.0\nRequires-Dist: no-such-client-lib>=1\n"
        "Requires-Dist: pytest-never-here; extra == 'docs'\n"
    )
    (dist / "entry_points.txt").write_text("[portway.plugins]\nlazy = lazy_plugin.plugin\n")
    (dist / "RECORD").write_text("")
    return {
        **os.environ,
        "PYTHONPATH": str(root),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # a fresh entry-point cache that sees the plugin
    }


def _portway(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portway.cli", *args], env=environ, capture_output=True, text=True, timeout=120
    )


def test_plugins_names_the_missing_package(plugin_path: dict[str, str]) -> None:
    listed = _portway(plugin_path, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    row = next(r for r in json.loads(listed.stdout) if r["name"] == "lazy")
    assert row["status"] == "loaded"
    assert row["missing_packages"] == ["no-such-client-lib"]  # the extra's requirement is not asked for
    table = _portway(plugin_path, "plugins")
    assert "missing: no-such-client-lib" in table.stdout


def test_a_ping_names_the_package_it_cannot_import(plugin_path: dict[str, str], tmp_path: Path) -> None:
    env = tmp_path / "env"
    assert _portway(plugin_path, "create", str(env), "--port", str(free_port())).returncode == 0
    created = _portway(plugin_path, "conn", "create", str(env), "lazy", "x", "--host", "h")
    assert created.returncode == 0, created.stderr
    pinged = _portway(plugin_path, "conn", "ping", str(env), "lazy", "x")
    assert pinged.returncode == 1
    assert "cannot import no_such_client_lib" in pinged.stderr, pinged.stderr
    assert "Traceback" not in pinged.stderr
