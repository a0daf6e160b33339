"""Issue 18 item 15: `portway plugin new NAME` writes a package that installs and passes its own tests.

The package is generated into a temporary folder, installed the way pip
leaves a package (its dist-info with the entry points its pyproject
declares, on ``sys.path``), and its generated tests run in a fresh
interpreter: they configure, ping and use the new connection type through
the real portway, the CLI included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from site_install import dist_info

from portway.testing import CliResult


def _install(root: Path, site: Path) -> dict[str, str]:
    """Install the package at ``root`` onto ``site`` from its own pyproject; the environment to use it."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    dist_info(site, project["name"], project["version"], project["entry-points"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(root / "src")])}


@pytest.fixture
def generated(tmp_path: Path, portway_cli: Callable[..., CliResult]) -> Path:
    result = portway_cli("plugin", "new", "demo_conn", "--dir", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "pip install -e '.[test]'" in result.stdout
    return tmp_path / "portway-demo-conn"


def test_the_layout_and_the_entry_point(generated: Path) -> None:
    files = sorted(str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/portway_demo_conn/__init__.py",
        "src/portway_demo_conn/client.py",
        "src/portway_demo_conn/plugin.py",
        "tests/conftest.py",
        "tests/test_demo_conn_plugin.py",
    ]
    project = tomllib.loads((generated / "pyproject.toml").read_text())["project"]
    assert project["name"] == "portway-demo-conn"
    assert project["entry-points"]["portway.plugins"] == {"demo_conn": "portway_demo_conn.plugin"}
    assert "$" not in (generated / "src/portway_demo_conn/plugin.py").read_text()


def test_installed_it_loads_and_passes_its_own_tests(generated: Path, tmp_path: Path) -> None:
    env = _install(generated, tmp_path / "site")
    listed = subprocess.run(
        [sys.executable, "-m", "portway.cli", "plugins", "--json"], env=env, capture_output=True, text=True
    )
    [row] = [r for r in json.loads(listed.stdout) if r["name"] == "demo_conn"]
    assert row["status"] == "loaded" and row["distribution"] == "portway-demo-conn", row
    assert [a["name"] for a in row["connection_types"][0]["actions"]] == ["echo"]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=generated,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout, tests.stdout


def test_the_generated_code_is_lint_clean(generated: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed next to this interpreter")
    checked = subprocess.run(
        [ruff, "check", "--no-cache", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "110", "."],
        cwd=generated,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_bad_names_and_existing_folders_are_refused(
    tmp_path: Path, portway_cli: Callable[..., CliResult]
) -> None:
    bad = portway_cli("plugin", "new", "Redis-2", "--dir", tmp_path)
    assert bad.exit_code == 1 and "plugin name 'Redis-2': use lowercase letters" in bad.error
    assert list(tmp_path.iterdir()) == []
    assert portway_cli("plugin", "new", "redis", "--dir", tmp_path).exit_code == 0
    again = portway_cli("plugin", "new", "redis", "--dir", tmp_path)
    assert again.exit_code == 1 and "portway-redis: exists already" in again.error
