"""Environment lifecycle: create, quickstart, start, stop, status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from portway.cli.remote import call, server_pid
from portway.envfolder import DEFAULT_PORT
from portway.errors import PortwayError
from portway.server.readiness import READY_FD, wait_ready
from portway.serverlock import holder

if TYPE_CHECKING:
    from portway import environment

EXAMPLE_SERVICE = '''\
"""An example service: edit and save this file, the change is live at once."""

from portway import Service


class Hello(Service):
    """Greets whoever calls it: POST {"name": "Ada"} to /hello."""

    name = "example.hello"

    def handle(self) -> None:
        who = (self.request.payload or {}).get("name", "world")
        self.logger.info("greeting", who=who)
        self.response.payload = {"hello": who}
'''


@click.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="HTTP port of the server.")
@click.option("--dir", "dirs", multiple=True, help="Pickup folder (repeatable); default ENV/services.")
def create(env: str, port: int, dirs: tuple[str, ...]) -> None:
    """Create a new environment folder ENV: settings, keys, config store."""
    from portway import environment

    made = environment.create(env, port=port, dirs=list(dirs) or None)
    click.echo(f"Created environment {made.root}")
    click.echo(f"  settings:  {made.toml_path}")
    click.echo(f"  services:  {', '.join(str(d) for d in made.pickup_dirs)}")
    click.echo(f"  API key:   {made.admin_key_path} (keep it private)")
    click.echo(f"Start it with: portway start {env}")


@click.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="HTTP port of the server.")
def quickstart(env: str, port: int) -> None:
    """Create ENV with an example service on POST /hello, and start it."""
    from portway import environment

    made = environment.create(env, port=port)
    (made.pickup_dirs[0] / "hello.py").write_text(EXAMPLE_SERVICE)
    from portway.runtime import Runtime

    runtime = Runtime(made)
    try:
        runtime.catalog.create("channel", "http", "hello", {"path": "/hello", "service": "example.hello"})
    finally:
        runtime.close()
    _start(made, wait_s=30)
    click.echo(
        f"\nTry:\n  curl -s -X POST {made.base_url}/hello -H 'content-type: application/json' "
        '-d \'{"name": "Ada"}\''
    )
    click.echo(f"  edit {made.pickup_dirs[0] / 'hello.py'} and call it again")
    click.echo(f"  portway stop {env}")


@click.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.option("--fg", is_flag=True, help="Run in the foreground, logging to the terminal.")
@click.option("--wait", "wait_s", default=30.0, show_default=True, help="Seconds to wait for readiness.")
def start(env: str, fg: bool, wait_s: float) -> None:
    """Start the server of ENV (in the background unless --fg)."""
    from portway import environment

    loaded = environment.load(env)
    running = server_pid(loaded)
    if running is not None:
        raise PortwayError(f"the server of {loaded.root} is already running (pid {running})")
    if fg:
        from portway.server.__main__ import serve

        sys.exit(serve(str(loaded.root), to_terminal=True))
    _start(loaded, wait_s)


def _start(env: environment.Environment, wait_s: float) -> None:
    from portway.logfiles import open_private

    log_path = env.logs_dir / "server.log"
    # The server writes (and rotates) server.log itself; what it cannot log,
    # a crash or an error before logging is set up, lands in stderr.log.
    crash_path = env.logs_dir / "stderr.log"
    crash_fd = open_private(crash_path)
    ready_read, ready_write = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "portway.server", str(env.root)],
            stdin=subprocess.DEVNULL,
            stdout=crash_fd,
            stderr=crash_fd,
            start_new_session=True,
            cwd=env.root,
            pass_fds=(ready_write,),
            env={**os.environ, READY_FD: str(ready_write)},
        )
    finally:
        os.close(crash_fd)
        os.close(ready_write)
    try:
        services = wait_ready(ready_read, wait_s)
    except TimeoutError:
        process.terminate()
        raise PortwayError(
            f"the server did not become ready within {wait_s:g}s:\n{_tail(log_path, crash_path)}"
        ) from None
    finally:
        os.close(ready_read)
    if services is None:  # the pipe closed unwritten: the server died
        process.wait(timeout=10)
        raise PortwayError(_early_exit(env, process, log_path, crash_path))
    click.echo(
        f"Started {env.root} (pid {process.pid}) at {env.base_url}; {services} services; log: {log_path}"
    )


def _early_exit(env: environment.Environment, process: subprocess.Popen[bytes], *logs: Path) -> str:
    """Why the server died at start, with the service file it was importing if it died in one."""
    from portway.hotdeploy.trail import last_import, trail_path

    importing = last_import(trail_path(env.cache_dir), pid=process.pid)
    if importing is None:
        return f"the server exited at start (code {process.returncode}):\n{_tail(*logs)}"
    return (
        f"the server died while importing the service file {importing} (exit code "
        f"{process.returncode}): its top level ended the whole process (os._exit(), a crash in a C "
        f"extension, or the process was killed). Move the file out of the pickup folder and start "
        f"again.\n{_tail(*logs)}"
    )


def _tail(*paths: Path, lines: int = 15) -> str:
    """The last lines of each log that has any."""
    parts = []
    for path in paths:
        try:
            text = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            continue
        if text:
            parts.append(text)
    return "\n".join(parts) or "(no log)"


@click.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, help="Seconds to wait for exit.")
@click.option("--force", is_flag=True, help="Kill the server if it has not exited by the timeout.")
def stop(env: str, timeout_s: float, force: bool) -> None:
    """Stop the server of ENV: drain in-flight work, return when the process has exited."""
    from portway import envfolder

    loaded = envfolder.find(env)  # the lock file is all stop needs: no settings to validate
    # Only the process holding the server lock, checked to be the one that took it: a stale
    # pid (the server died, the pid went to another process) is never signalled.
    server = holder(loaded.lock_path)
    if server is None or not server.signal(signal.SIGTERM):
        click.echo(f"The server of {loaded.root} is not running.")
        return
    pid = server.pid
    started = time.monotonic()
    if not server.wait_exit(timeout_s):
        if not force:
            raise PortwayError(f"pid {pid} still running after {timeout_s:g}s; use --force to kill it")
        server.signal(signal.SIGKILL)
        click.echo(f"Killed pid {pid}.")
        return
    click.echo(f"Stopped {loaded.root} (pid {pid}) in {time.monotonic() - started:.2f}s.")


@click.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(env: str, as_json: bool) -> None:
    """Show whether the server of ENV runs, where, and what it serves."""
    from portway import environment

    loaded = environment.load(env)
    pid = server_pid(loaded)
    changes: list[dict[str, str]] = []
    report: dict[str, object] = {
        "env": str(loaded.root),
        "running": pid is not None,
        "pid": pid,
        "url": loaded.base_url,
    }
    if pid is not None:
        deploy = call(loaded, "GET", "/deploy")
        report["services"] = len(deploy["services"])
        report["deploy_failures"] = deploy["failures"]
        changes = plugin_changes(call(loaded, "GET", "/plugins"), loaded.settings.plugins.disabled)
        report["plugin_changes"] = changes
        report["stats"] = call(loaded, "GET", "/stats")
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if pid is None:
        click.echo(f"{loaded.root}: not running")
        sys.exit(3)
    click.echo(f"{loaded.root}: running, pid {pid}, {loaded.base_url}, {report['services']} services")
    for failure in deploy["failures"]:
        click.secho(
            f"  deploy error: {failure['path']}:{failure['line'] or '?'}: {failure['error']}", fg="red"
        )
    from portway.cli.stats_lines import stats_lines

    for line, colour in stats_lines(report["stats"]):  # type: ignore[arg-type]
        click.secho(line, fg=colour)
    for change in changes:
        click.secho(f"  Warning: {change['message']}", fg="yellow", err=True)
    if changes:
        click.secho(
            f"  Plugin code is loaded when the server starts: restart it (portway stop {env} && "
            f"portway start {env}) to run what is installed.",
            fg="yellow",
            err=True,
        )


def plugin_changes(running: list[dict[str, Any]], disabled: list[str]) -> list[dict[str, str]]:
    """Plugins whose installed version is not the one the running server loaded, or that came or went."""
    from portway.plugins import distribution_of, installed_names

    changes = []
    installed = installed_names()
    seen = {row["name"] for row in running}
    for row in running:
        if row["status"] != "loaded" or row["name"] == "builtin_plugin":
            continue
        name, was = row["name"], row["version"]
        now = distribution_of(name)[1] if name in installed else None
        if now is None:
            message = f"plugin {name!r}: the server runs {was}, which is no longer installed"
        elif now != was:
            message = f"plugin {name!r}: the server runs {was}, {now} is installed"
        else:
            continue
        changes.append({"plugin": name, "running": was, "installed": now or "", "message": message})
    for name in installed:
        if name not in seen and name not in disabled:
            now = distribution_of(name)[1]
            message = f"plugin {name!r} {now} was installed after the server started; it is not loaded"
            changes.append({"plugin": name, "running": "", "installed": now, "message": message})
    return changes
