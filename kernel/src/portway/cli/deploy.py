"""``portway deploy``: what is deployed, what failed to deploy and why, and rollback.

``list`` and ``status`` ask the running server (``GET /admin/api/deploy``);
when the server is not running they deploy the pickup folders in this
process (no watching) and report what a start would deploy. ``rollback``
acts on the running server's live version, so it needs the server.
"""

from __future__ import annotations

import json
from typing import Any

import click

from portway import environment
from portway.environment import Environment
from portway.errors import PortwayError

ENV_ARG = click.argument("env", type=click.Path(file_okay=False))


@click.group()
def deploy() -> None:
    """List deployed services, show deploy errors, roll back, push to the cluster."""


@deploy.command("list")
@ENV_ARG
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_services(env: str, as_json: bool) -> None:
    """Each deployed service: its file, version hash and deploy time."""
    loaded = environment.load(env)
    status = _status(loaded)
    services = status["services"]
    if as_json:
        click.echo(json.dumps(services, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("service", "file", "version", "deployed at"):
        table.add_column(column)
    for s in services:
        version = s["version"] + (" (rolled back)" if s.get("rolled_back") else "")
        table.add_row(s["name"], _short(loaded, s["source"]), version, s["deployed_at"])
    Console(soft_wrap=True).print(table)
    if status["failures"]:
        count = len(status["failures"])
        click.secho(f"{count} file(s) failed to deploy: see `portway deploy status`", fg="red")


@deploy.command("status")
@ENV_ARG
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def status(env: str, as_json: bool) -> None:
    """Pickup folders, counts, boot figures and every file that failed (file, line, error)."""
    loaded = environment.load(env)
    report = _status(loaded)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if report.get("from_server"):
        click.echo("running server")
    else:
        click.echo("deployed in this process (server not running)")
    click.echo(f"pickup folders: {', '.join(report['dirs'])}")
    click.echo(f"services: {len(report['services'])}   failed files: {len(report['failures'])}")
    boot = report.get("boot")
    if boot:
        click.echo(
            f"boot: {boot['files']} files, {boot['services']} services in {boot['ms']} ms "
            f"({boot['from_cache']} from cache, {boot['compiled']} compiled)"
        )
    for helper in report.get("helpers", []):
        users = ", ".join(_short(loaded, u) for u in helper["used_by"])
        click.echo(f"helper {_short(loaded, helper['path'])} used by {users}")
    if report.get("abandoned_imports"):
        click.secho(f"{report['abandoned_imports']} timed-out import thread(s) still running", fg="yellow")
    for failure in report["failures"]:
        where = f"{failure['path']}:{failure['line']}" if failure["line"] else failure["path"]
        click.secho(f"FAILED {where}: {failure['error']}", fg="red")
    if report["failures"]:
        raise SystemExit(1)


@deploy.command("rollback")
@ENV_ARG
@click.argument("service")
def rollback(env: str, service: str) -> None:
    """Put the version of SERVICE before the live one back (running server; a published file: on all)."""
    from portway.cli.remote import call, server_pid

    loaded = environment.load(env)
    if server_pid(loaded) is None:
        raise PortwayError(
            f"the server of {loaded.root} is not running; rollback changes the live version of a "
            "running server (start it with `portway start ENV`)"
        )
    live = call(loaded, "POST", f"/deploy/rollback/{service}")
    click.echo(f"{live['name']} is back on version {live['version']} ({live['source']})")


def _status(env: Environment) -> dict[str, Any]:
    from portway.cli.remote import call, server_pid

    if server_pid(env) is not None:
        report: dict[str, Any] = call(env, "GET", "/deploy")
        report["from_server"] = True
        return report
    from portway.runtime import Runtime

    runtime = Runtime(env)
    try:
        runtime.deployer.deploy_all()
        report = runtime.deployer.status()
    finally:
        runtime.close()
    report["from_server"] = False
    return report


def _short(env: Environment, path: str) -> str:
    """A path relative to the environment when it is inside it."""
    prefix = str(env.root) + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def _add_push() -> None:
    from portway.cli.push import push

    deploy.add_command(push)


_add_push()
