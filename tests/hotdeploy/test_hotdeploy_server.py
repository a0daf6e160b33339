"""Hot-deploy against the real server over HTTP, and the `portway deploy` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hotdeploy_kit import service_source, wait_until

from portway.environment import Environment
from portway.testing import ServerHandle

PORTWAY = str(Path(sys.executable).with_name("portway"))


@dataclass
class Ran:
    exit_code: int
    stdout: str
    output: str


class Cli:
    """`portway ...` in a subprocess, as a user runs it (and without touching this process's logging)."""

    def invoke(self, args: list[str]) -> Ran:
        done = subprocess.run([PORTWAY, *args], capture_output=True, text=True, timeout=120)
        return Ran(done.returncode, done.stdout, done.stdout + done.stderr)


def _invoke(server: ServerHandle, name: str) -> object:
    status, body = server.request("POST", f"/admin/api/services/{name}/invoke", None)
    return body["payload"] if status == 200 else (status, body)


def _deploy_status(server: ServerHandle) -> dict:
    status, body = server.request("GET", "/admin/api/deploy")
    assert status == 200, body
    return body


def test_save_break_rollback_delete_over_http(portway_server: ServerHandle, portway_env: Environment) -> None:
    pickup = portway_env.pickup_dirs[0]
    path = pickup / "hello.py"
    path.write_text(service_source("'v1'"))
    wait_until(lambda: _invoke(portway_server, "hello.hello") == "v1")
    path.write_text(service_source("'v2'"))
    wait_until(lambda: _invoke(portway_server, "hello.hello") == "v2")

    # A broken save: reported by the admin API with file and line, v2 stays live.
    path.write_text(service_source("'v3'") + "oops(\n")
    failed = wait_until(lambda: _deploy_status(portway_server)["failures"])
    assert failed[0]["path"] == str(path) and failed[0]["line"] == 7
    assert "SyntaxError" in failed[0]["error"]
    assert _invoke(portway_server, "hello.hello") == "v2"

    runner = Cli()
    listed = runner.invoke(["deploy", "list", str(portway_env.root), "--json"])
    assert listed.exit_code == 0, listed.output
    row = next(s for s in json.loads(listed.stdout) if s["name"] == "hello.hello")
    assert row["source"] == str(path) and row["version"] and row["deployed_at"]

    shown = runner.invoke(["deploy", "status", str(portway_env.root)])
    assert shown.exit_code == 1  # failures make status exit non-zero, for scripts
    assert f"FAILED {path}:7: SyntaxError" in shown.output
    assert "running server" in shown.output

    rolled = runner.invoke(["deploy", "rollback", str(portway_env.root), "hello.hello"])
    assert rolled.exit_code == 0, rolled.output
    assert _invoke(portway_server, "hello.hello") == "v1"
    missing = runner.invoke(["deploy", "rollback", str(portway_env.root), "no.such"])
    assert missing.exit_code == 1 and "no.such" in missing.output

    path.unlink()
    wait_until(lambda: _invoke(portway_server, "hello.hello")[0] == 404)


def test_cli_without_server_deploys_in_process(portway_env: Environment) -> None:
    pickup: Path = portway_env.pickup_dirs[0]
    (pickup / "hello.py").write_text(service_source("'x'"))
    (pickup / "broken.py").write_text("raise SystemError('no')\n")
    runner = Cli()
    listed = runner.invoke(["deploy", "list", str(portway_env.root)])
    assert listed.exit_code == 0, listed.output
    assert "hello.hello" in listed.output and "services/hello.py" in listed.output
    shown = runner.invoke(["deploy", "status", str(portway_env.root), "--json"])
    report = json.loads(shown.stdout)
    assert report["from_server"] is False
    assert report["failures"][0]["error"] == "SystemError: no"
    refused = runner.invoke(["deploy", "rollback", str(portway_env.root), "hello.hello"])
    assert refused.exit_code == 1 and "not running" in refused.output
