"""``portway cluster status ENV``: every server on the store, its code revision against the store's."""

from __future__ import annotations

import json
import time

import click

from portway import environment
from portway.errors import ConfigError


@click.group()
def cluster() -> None:
    """See the servers sharing this environment's PostgreSQL store."""


@cluster.command("status")
@click.argument("env", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(env: str, as_json: bool) -> None:
    """Each server: address, pid, last heartbeat, code revision, failed files, leases; flags the odd ones."""
    from portway.servers import cluster_view
    from portway.store import Store

    loaded = environment.load(env)
    store = Store.open(loaded)
    try:
        if store.db.dialect != "postgresql":
            raise ConfigError(
                "[store] url",
                "this environment's store is SQLite, one server; servers form a cluster on a shared "
                'PostgreSQL store: set [store] url = "postgresql://..." (see docs/cluster.md)',
            )
        view = cluster_view(store.db)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    servers = view["servers"]
    click.echo(f"store code revision {view['code_revision']}; {len(servers)} server(s)")
    for s in servers:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["started_at"]))
        line = (
            f"{s['http']:24} pid {s['pid']:<7} rev {s['code_revision']:<5} "
            f"beat {s['last_beat_s']:>5}s ago  up since {started}"
        )
        flags = ", ".join(s["flags"])
        click.secho(line + (f"  [{flags}]" if flags else "  ok"), fg=None if s["ok"] else "red")
        for error in s["deploy_errors"]:
            where = f"{error['path']}:{error['line']}" if error["line"] else error["path"]
            click.secho(f"    FAILED {where}: {error['error']}", fg="red")
        for lease in s["leases"]:
            click.echo(f"    holds lease {lease}")
    if any(not s["ok"] for s in servers):
        raise SystemExit(1)
