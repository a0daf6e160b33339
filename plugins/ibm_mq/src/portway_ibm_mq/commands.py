"""``portway mq``: send a test message, browse a queue, inquire its depth, ping a queue manager.

When the environment's server is running, these go through its admin API, so
they use the server's connections (and reach an in-memory queue manager,
which lives inside the server process); otherwise they run in this process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.group()
def mq() -> None:
    """IBM MQ: send test messages, browse queues and ping queue managers."""


@mq.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("conn")
@click.argument("queue")
@click.option("--data", "-d", help="Message body as text (sent as MQSTR).")
@click.option(
    "--file",
    "-f",
    "body_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the body from a file instead (UTF-8 text).",
)
@click.option("--priority", type=click.IntRange(0, 9), help="0-9; default: the queue's.")
@click.option("--persistent/--non-persistent", default=None, help="Default: the queue's DEFPSIST.")
@click.option("--expiry", type=click.FloatRange(min=0, min_open=True), help="Expire after SECONDS.")
@click.option("--correlation-id", help="CorrelId: text or 48 hex digits.")
@click.option("--reply-to", help="ReplyToQ.")
@click.option("--format", "format_", help="MQMD Format (default MQSTR).")
@click.option("--header", "-H", "headers", multiple=True, help="Message property as NAME=VALUE (repeatable).")
@click.option("--jms/--mq", "jms", default=None, help="As a JMS message (MQRFH2); default: target_client.")
def send(
    env: str,
    conn: str,
    queue: str,
    data: str | None,
    body_file: Path | None,
    priority: int | None,
    persistent: bool | None,
    expiry: float | None,
    correlation_id: str | None,
    reply_to: str | None,
    format_: str | None,
    headers: tuple[str, ...],
    jms: bool | None,
) -> None:
    """Put one message on QUEUE through the ibm_mq connection CONN; print its MQMD."""
    if (data is None) == (body_file is None):
        raise click.UsageError("give the body with exactly one of --data or --file")
    if body_file is not None:
        try:
            data = body_file.read_text("utf-8")
        except UnicodeDecodeError:
            raise click.BadParameter(f"{body_file} is not UTF-8 text", param_hint="--file") from None
    arguments: dict[str, Any] = {"queue": queue, "data": data, "headers": _pairs(headers)}
    for key, value in (
        ("priority", priority),
        ("persistent", persistent),
        ("expiry_s", expiry),
        ("correlation_id", correlation_id),
        ("reply_to", reply_to),
        ("format", format_),
        ("jms", jms),
    ):
        if value is not None:
            arguments[key] = value
    result = _run(env, conn, "send", arguments)
    click.echo(json.dumps(result, indent=2))


@mq.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("conn")
@click.argument("queue")
@click.option("--limit", "-n", type=click.IntRange(1, 500), default=10, show_default=True, help="Messages.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def browse(env: str, conn: str, queue: str, limit: int, as_json: bool) -> None:
    """List QUEUE's first messages (MQMD fields, JMS headers, body), leaving them on the queue."""
    result = _run(env, conn, "browse", {"queue": queue, "limit": limit})
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(_depth_line(result))
    for row in result["messages"]:  # a block per message: ids are long and must not be cut
        kind = row["jms"] or row["format"] or "no format"
        click.echo(
            f"#{row['#']} {row['put_at']} priority {row['priority']} {kind} {row['size']} bytes"
            f" backouts {row['backout_count']}"
        )
        click.echo(f"   msg_id {row['msg_id']} correl_id {row['correl_id']}")
        for label in ("JMSCorrelationID", "JMSDestination", "JMSType", "properties"):
            if row[label]:
                click.echo(f"   {label} {row[label]}")
        click.echo(f"   {row['problem'] or row['body']}")


@mq.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("conn")
@click.argument("queue")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def depth(env: str, conn: str, queue: str, as_json: bool) -> None:
    """Print QUEUE's depth (CURDEPTH) and its backout threshold and queue (BOTHRESH, BOQNAME)."""
    result = _run(env, conn, "depth", {"queue": queue})
    click.echo(json.dumps(result, indent=2) if as_json else _depth_line(result))


def _depth_line(result: dict[str, Any]) -> str:
    backout = "no backout threshold"
    if result["backout_threshold"]:
        target = result["backout_queue"] or "the dead-letter queue"
        backout = f"backout after {result['backout_threshold']} to {target}"
    return f"{result['queue']}: depth {result['depth']} ({backout})"


@mq.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("conn")
def ping(env: str, conn: str) -> None:
    """Connect, inquire the queue manager's name; print the time or the reason code with a hint."""
    from portway import plugin_cli

    answer = plugin_cli.ping(env, "ibm_mq", conn)
    if not answer.ok:
        _fail(answer.reason)
    click.echo(f"OK {answer.ms:.1f} ms")


def _run(env: str, conn: str, action: str, arguments: dict[str, Any]) -> Any:
    from portway import plugin_cli

    if plugin_cli.server_running(env):
        return plugin_cli.run_action(env, "ibm_mq", conn, action, arguments, where="server")
    settings = plugin_cli.connection_settings(env, "ibm_mq", conn)
    if getattr(settings, "is_memory", False):
        raise click.ClickException(
            f"connection {conn!r} uses the in-memory queue manager {getattr(settings, 'backend', '')!r} "
            "which lives inside the server process, and the server is not running; "
            f"start it (`portway start {env}`) and run this again"
        )
    return plugin_cli.run_action(env, "ibm_mq", conn, action, arguments, where="here")


def _pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--header")
        found[name] = value
    return found


def _fail(reason: str) -> None:
    click.secho(f"FAILED: {reason}", fg="red", err=True)
    raise SystemExit(1)
