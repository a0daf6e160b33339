"""A service file that ends the whole server at import is named: in the log, and by `portway start`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hotdeploy_kit import service_source, wait_until

from portway.cli.remote import server_pid
from portway.environment import Environment
from portway.testing import ServerHandle

PORTWAY = str(Path(sys.executable).with_name("portway"))
KILLER = "import os\n\nos._exit(7)\n"


def _start(env: Environment) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PORTWAY, "start", str(env.root)], capture_output=True, text=True, timeout=120)


def test_start_names_the_file_that_killed_the_server_at_boot(portway_env: Environment) -> None:
    pickup = portway_env.pickup_dirs[0]
    (pickup / "aaa_fine.py").write_text(service_source("'fine'", cls="Fine"))
    (pickup / "killer.py").write_text(KILLER)
    (pickup / "zzz_fine.py").write_text(service_source("'fine'", cls="AlsoFine"))
    started = _start(portway_env)
    assert started.returncode == 1
    assert f"died while importing the service file {pickup / 'killer.py'}" in started.stderr
    assert "exit code 7" in started.stderr
    # Moved away, the server starts; the log of the run after the crash names it too.
    (pickup / "killer.py").rename(portway_env.root / "killer.py")
    started = _start(portway_env)
    try:
        assert started.returncode == 0, started.stderr
        log = (portway_env.logs_dir / "server.log").read_text()
        assert "last_run_died_importing" in log and "killer.py" in log
    finally:
        subprocess.run([PORTWAY, "stop", str(portway_env.root)], capture_output=True, timeout=120)


def test_a_save_that_kills_the_server_is_named_in_the_log(
    portway_server: ServerHandle, portway_env: Environment
) -> None:
    killer = portway_env.pickup_dirs[0] / "killer.py"
    killer.write_text(KILLER)
    wait_until(lambda: server_pid(portway_env) is None, timeout_s=30, what="the server to die")
    log = (portway_env.logs_dir / "server.log").read_text()
    last = log.splitlines()[-1]
    assert "deploying" in last and str(killer) in last, log[-2000:]
    # And the next start says which file it was (it is still in the pickup folder).
    started = _start(portway_env)
    assert started.returncode == 1 and f"importing the service file {killer}" in started.stderr
