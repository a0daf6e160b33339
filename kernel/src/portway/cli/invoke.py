"""``portway invoke ENV SERVICE --payload JSON``."""

from __future__ import annotations

import json
from typing import Any

import click

from portway import environment
from portway.cli.remote import call, server_pid
from portway.errors import ConfigError


@click.command()
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("service")
@click.option("--payload", "-p", default=None, help='JSON payload, e.g. \'{"name": "Ada"}\'.')
def invoke(env: str, service: str, payload: str | None) -> None:
    """Invoke SERVICE in ENV and print its response payload.

    Uses the running server; when it is not running, the service is
    deployed and invoked in this process instead.
    """
    data = _parse(payload)
    loaded = environment.load(env)
    if server_pid(loaded) is not None:
        answer = call(loaded, "POST", f"/services/{service}/invoke", data)
        result = answer["payload"]
    else:
        from portway.runtime import Runtime

        runtime = Runtime(loaded)
        try:
            runtime.deployer.deploy_all()
            result = runtime.invoke(service, data).payload
        finally:
            runtime.close()
    click.echo(json.dumps(result, indent=2, default=str) if not isinstance(result, str) else result)


def _parse(payload: str | None) -> Any:
    if payload is None:
        return None
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise ConfigError("--payload", f"not valid JSON ({exc}); quote it like '{{\"a\": 1}}'") from None
