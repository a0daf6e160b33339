"""What a plugin's own CLI commands use: an environment's connections, here or through its running server.

A plugin adds commands with the ``portway_cli`` hook; this module is the
part of the kernel those commands may rely on (it is public, listed in
docs/plugins.md). ``ENV`` is an environment folder, as every ``portway``
command takes it::

    import click
    from portway import plugin_cli

    @click.command()
    @click.argument("env")
    @click.argument("conn")
    def depth(env: str, conn: str) -> None:
        click.echo(plugin_cli.run_action(env, "ibm_mq", conn, "depth", {"queue": "Q1"}))

Errors are :class:`portway.errors.PortwayError`; the ``portway`` command
prints them as one ``Error: ...`` line and exits with status 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from portway import environment
from portway.errors import ConnectionFailed, PortwayError
from portway.pool import describe

if TYPE_CHECKING:
    from pydantic import BaseModel

    from portway.runtime import Runtime

EnvPath = str | Path
Where = Literal["auto", "server", "here"]
"""Where a call runs: ``server`` through the running server's admin API, ``here`` in this process,
``auto`` through the server when it runs (it sees the same network and the in-memory backends
that live inside it), else here."""


@dataclass(frozen=True)
class Ping:
    """How a ping went: ``ok`` and the time in ms, or the ``reason`` it failed."""

    ok: bool
    ms: float = 0.0
    reason: str = ""


def server_running(env: EnvPath) -> bool:
    """Whether the server of ``env`` runs now."""
    from portway.cli.remote import server_pid

    return server_pid(environment.load(env)) is not None


def connection_settings(env: EnvPath, type_name: str, name: str) -> BaseModel:
    """The configured connection's settings, validated, secrets decrypted and ``${VAR}`` resolved here."""
    with _runtime(env) as runtime:
        return runtime.connection_settings(type_name, name)


@contextmanager
def open_client(env: EnvPath, type_name: str, name: str) -> Iterator[Any]:
    """A new client of a configured connection, opened in this process and closed on leaving.

    Not pooled and not the server's: for commands that talk to the remote
    end themselves (an interactive shell, a batch script).
    """
    with _runtime(env) as runtime:
        probe = runtime.connections.detached(type_name, name)
    try:
        client = probe.connect()
    except PortwayError:
        raise
    except Exception as exc:
        raise ConnectionFailed(type_name, name, describe(exc)) from exc
    try:
        yield client
    finally:
        probe.declaration.close(client)


def run_action(
    env: EnvPath,
    type_name: str,
    name: str,
    action: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    where: Where = "auto",
) -> Any:
    """Run a connection type's declared action on connection ``name``; return its result (JSON data).

    Arguments are checked against the action's arguments model on either
    side: an unknown or invalid one raises :class:`~portway.errors.ArgumentError`.
    """
    loaded = environment.load(env)
    if _through_server(loaded, where):
        from portway.cli.remote import call

        path = f"/connections/{_part(type_name)}/{_part(name)}/actions/{_part(action)}"
        return call(loaded, "POST", path, dict(arguments or {}))["result"]
    from portway import actions

    with _runtime(loaded) as runtime:
        return actions.run(runtime.connections, type_name, name, action, arguments)


def ping(env: EnvPath, type_name: str, name: str, *, where: Where = "auto") -> Ping:
    """Open a fresh client of connection ``name``, ping it, close it; say how it went."""
    loaded = environment.load(env)
    if _through_server(loaded, where):
        from portway.cli.remote import call

        answer = call(loaded, "POST", f"/connections/{_part(type_name)}/{_part(name)}/ping", {})
        return Ping(bool(answer["ok"]), float(answer.get("ms", 0.0)), str(answer.get("reason", "")))
    with _runtime(loaded) as runtime:
        try:
            return Ping(True, runtime.connections.ping(type_name, name))
        except ConnectionFailed as exc:
            return Ping(False, reason=exc.reason)


def _through_server(env: environment.Environment, where: Where) -> bool:
    from portway.cli.remote import server_pid

    if where == "here":
        return False
    running = server_pid(env) is not None
    if where == "server" and not running:
        raise PortwayError(
            f"the server of {env.root} is not running; start it with `portway start {env.root}`"
        )
    return running


@contextmanager
def _runtime(env: EnvPath | environment.Environment) -> Iterator[Runtime]:
    """The environment's runtime for one command: not booted (no services deployed, no channels)."""
    from portway.runtime import Runtime

    loaded = env if isinstance(env, environment.Environment) else environment.load(env)
    runtime = Runtime(loaded)
    try:
        yield runtime
    finally:
        runtime.close()


def _part(text: str) -> str:
    return quote(text, safe="")
