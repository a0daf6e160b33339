"""Issue 18 item 14: `portway status` warns when the running server's plugins are not the installed ones.

Plugin code is imported when the server starts. A plugin on a folder of
``sys.path`` (with its dist-info, as pip leaves it) is loaded by a real
server; then its installed version changes, and a new plugin appears.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from site_install import dist_info

from portway.testing import CliResult, ServerHandle

PLUGIN = """
from pydantic import BaseModel
from portway import ConnectionType, hookimpl

class Settings(BaseModel):
    host: str

@hookimpl
def portway_connection_types():
    return [ConnectionType(name="verdemo", settings=Settings, connect=lambda s: s, ping=lambda c: None,
                           close=lambda c: None)]
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "site"
    (folder / "portway_verdemo").mkdir(parents=True)
    (folder / "portway_verdemo" / "__init__.py").write_text("")
    (folder / "portway_verdemo" / "plugin.py").write_text(PLUGIN)
    dist_info(folder, "portway-verdemo", "1.0.0", {"portway.plugins": {"verdemo": "portway_verdemo.plugin"}})
    monkeypatch.setenv("PYTHONPATH", str(folder))  # the server subprocess
    monkeypatch.syspath_prepend(str(folder))  # this process, where `portway status` runs
    yield folder


def test_status_says_which_plugins_changed_since_the_server_started(
    site: Path, portway_server: ServerHandle, portway_cli: Callable[..., CliResult]
) -> None:
    env = portway_server.env.root
    status, rows = portway_server.request("GET", "/admin/api/plugins")
    assert (
        status == 200
        and {"name": "verdemo", "version": "1.0.0"}.items()
        <= next(r for r in rows if r["name"] == "verdemo").items()
    )
    quiet = portway_cli("status", env)
    assert quiet.exit_code == 0 and "Warning" not in quiet.stderr, quiet.stderr
    dist_info(site, "portway-verdemo", "2.0.0", {"portway.plugins": {"verdemo": "portway_verdemo.plugin"}})
    (site / "portway_newdemo").mkdir()
    (site / "portway_newdemo" / "__init__.py").write_text("")
    dist_info(site, "portway-newdemo", "0.3.0", {"portway.plugins": {"newdemo": "portway_newdemo"}})
    warned = portway_cli("status", env)
    assert warned.exit_code == 0
    assert "Warning: plugin 'verdemo': the server runs 1.0.0, 2.0.0 is installed" in warned.stderr
    assert "Warning: plugin 'newdemo' 0.3.0 was installed after the server started" in warned.stderr
    assert f"restart it (portway stop {env} && portway start {env})" in warned.stderr
    report = json.loads(portway_cli("status", env, "--json").stdout)
    assert {"plugin": "verdemo", "running": "1.0.0", "installed": "2.0.0"}.items() <= report[
        "plugin_changes"
    ][0].items()
