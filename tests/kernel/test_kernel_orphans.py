"""Issue 18 item 9: export and error messages when a connection's plugin is disabled or missing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml  # type: ignore[import-untyped]

from portway import environment
from portway.environment import Environment
from portway.errors import NotFoundError
from portway.plugins import load_plugins
from portway.runtime import Runtime
from portway.testing import CliResult, create_connection


@pytest.fixture
def disabled_env(portway_env: Environment) -> Environment:
    runtime = Runtime(portway_env)
    try:
        create_connection(runtime, "echo", "e1", {"host": "127.0.0.1", "port": 9, "token": "t0ken-1"})
        create_connection(runtime, "sftp", "s1", {"host": "127.0.0.1", "username": "u", "password": "pw-1"})
    finally:
        runtime.close()
    text = portway_env.toml_path.read_text().replace("disabled = []", 'disabled = ["echo"]')
    portway_env.toml_path.write_text(text)
    return environment.load(portway_env.root)


def test_export_keeps_items_of_a_disabled_type_and_says_so(
    disabled_env: Environment, portway_cli: Callable[..., CliResult]
) -> None:
    result = portway_cli("enmasse", "export", disabled_env.root)
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    by_name = {item["name"]: item for item in document["connections"]}
    # As stored: only what was given, the sealed token a ${VAR} like any known secret.
    assert by_name["e1"] == {
        "type": "echo",
        "name": "e1",
        "settings": {"host": "127.0.0.1", "port": 9, "token": "${PORTWAY_ECHO_E1_TOKEN}"},
    }
    assert by_name["s1"]["settings"]["password"] == "${PORTWAY_SFTP_S1_PASSWORD}"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: echo connection 'e1' exported as stored, unchecked: no connection type named 'echo'; "
        "its plugin 'echo' is disabled in portway.toml ([plugins] disabled); installed types: ftp, ibm_mq, "
        "sftp; see `portway plugins`"
    ]
    assert "PORTWAY_ECHO_E1_TOKEN" in result.stderr


def test_export_with_secrets_writes_the_stored_secret_of_a_disabled_type(
    disabled_env: Environment, portway_cli: Callable[..., CliResult], tmp_path: object
) -> None:
    result = portway_cli("enmasse", "export", disabled_env.root, "--include-secrets")
    assert result.exit_code == 0, result.stderr
    [echo] = [i for i in yaml.safe_load(result.stdout)["connections"] if i["type"] == "echo"]
    assert echo["settings"]["token"] == "t0ken-1"


def test_a_disabled_type_is_named_disabled_everywhere(
    disabled_env: Environment, portway_cli: Callable[..., CliResult]
) -> None:
    plugins = load_plugins(["echo"])
    with pytest.raises(NotFoundError, match="its plugin 'echo' is disabled in portway.toml"):
        plugins.connection_type("echo")
    shown = portway_cli("conn", "ping", disabled_env.root, "echo", "e1")
    assert shown.exit_code == 1 and "its plugin 'echo' is disabled" in shown.error
