"""Issue 18 items 6 and 7: action arguments refused by name, and actions a user can find.

Against the example plugin's ``echo`` type and a real TCP echo server: in
this process, through the ``portway`` CLI (run in-process by
``portway_cli``) and through the real server's admin API and OpenAPI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from portway.environment import Environment
from portway.errors import ArgumentError
from portway.testing import CliResult, ServerHandle, create_connection, run_action


@pytest.fixture
def echo_env(portway_env: Environment, echo_settings: dict[str, Any]) -> Environment:
    from portway.runtime import Runtime

    runtime = Runtime(portway_env)
    try:
        create_connection(runtime, "echo", "e1", echo_settings)
    finally:
        runtime.close()
    return portway_env


def test_an_unknown_argument_is_refused_by_name(portway_runtime: Any, echo_settings: dict[str, Any]) -> None:
    create_connection(portway_runtime, "echo", "e1", echo_settings)
    with pytest.raises(ArgumentError) as unknown:
        run_action(portway_runtime, "echo", "e1", "echo", {"text": "hi", "bogus": 1})
    assert str(unknown.value) == "echo action 'echo': argument 'bogus': unknown argument; known: text, times"
    assert unknown.value.field == "bogus"
    with pytest.raises(ArgumentError) as missing:
        run_action(portway_runtime, "echo", "e1", "echo", {})
    assert str(missing.value) == "echo action 'echo': argument 'text': required; give a value"
    with pytest.raises(ArgumentError, match="argument 'times'"):
        run_action(portway_runtime, "echo", "e1", "echo", {"text": "hi", "times": 9})
    assert run_action(portway_runtime, "echo", "e1", "echo", {"text": "hi", "times": 2}) == "hi hi"


def test_the_cli_says_argument_and_how_to_write_one(
    echo_env: Environment, portway_cli: Callable[..., CliResult]
) -> None:
    env = echo_env.root
    bogus = portway_cli("conn", "action", env, "echo", "e1", "echo", "--arg", "bogus=1")
    assert bogus.exit_code == 1
    assert bogus.error == "Error: echo action 'echo': argument 'bogus': unknown argument; known: text, times"
    malformed = portway_cli("conn", "action", env, "echo", "e1", "echo", "--arg", "text")
    assert malformed.exit_code == 1 and "write --arg as key=value" in malformed.error
    assert "setting" not in bogus.error + malformed.error
    assert portway_cli("conn", "action", env, "echo", "e1", "echo", "-a", "text=hi").stdout == "hi\n"


def test_each_action_has_typed_options_and_its_own_help(
    echo_env: Environment, portway_cli: Callable[..., CliResult]
) -> None:
    env = echo_env.root
    helped = portway_cli("conn", "action", env, "echo", "e1", "echo", "--help")
    assert helped.exit_code == 0
    assert "Send text, get it back" in helped.stdout
    assert "--text TEXT" in helped.stdout and "Text to send" in helped.stdout
    assert "--times [1|2|3]" in helped.stdout
    listed = portway_cli("conn", "action", env, "echo", "e1", "--help")
    assert listed.exit_code == 0 and "Actions:" in listed.stdout
    assert "echo  Send text, get it back" in listed.stdout
    ran = portway_cli("conn", "action", env, "echo", "e1", "echo", "--text", "hello", "--times", "3")
    assert ran.exit_code == 0 and ran.stdout == "hello hello hello\n", ran.stderr
    unknown = portway_cli("conn", "action", env, "echo", "e1", "shout", "--text", "x")
    assert unknown.error == "Error: no echo action named 'shout'; available: echo"


def test_plugins_lists_each_types_actions_and_arguments(portway_cli: Callable[..., CliResult]) -> None:
    rows = json.loads(portway_cli("plugins", "--json").stdout)
    [echo] = [row for row in rows if row["name"] == "echo"]
    [declared] = echo["connection_types"]
    assert declared["name"] == "echo" and declared["summary"] == "Example: a line-based TCP echo server"
    [action] = declared["actions"]
    assert action["name"] == "echo" and action["summary"] == "Send text, get it back"
    assert action["arguments"] == [
        {"name": "text", "type": "str", "required": True, "default": None, "description": "Text to send"},
        {
            "name": "times",
            "type": "1|2|3",
            "required": False,
            "default": 1,
            "description": "How many times to send it; the replies joined by spaces",
        },
    ]
    table = portway_cli("plugins").stdout
    assert "Actions: portway conn action ENV TYPE NAME ACTION" in table
    assert "Send text, get it back" in table and "text (str, required)" in table
    assert "times (1|2|3, default 1)" in table


def test_rest_refuses_an_unknown_argument_and_openapi_has_each_actions_body(
    portway_server: ServerHandle, echo_settings: dict[str, Any]
) -> None:
    server = portway_server
    body = {"type": "echo", "name": "e1", "settings": echo_settings}
    assert server.request("POST", "/admin/api/connections", body)[0] == 201
    status, answer = server.request("POST", "/admin/api/connections/echo/e1/actions/echo", {"bogus": 1})
    assert status == 400 and answer["field"] == "bogus" and "unknown argument" in answer["error"]
    status, answer = server.request(
        "POST", "/admin/api/connections/echo/e1/actions/echo", {"text": "a", "times": 2}
    )
    assert (status, answer) == (200, {"result": "a a"})
    status, doc = server.request("GET", "/openapi.json", admin=False)
    assert status == 200
    operation = doc["paths"]["/admin/api/connections/echo/{name}/actions/echo"]["post"]
    assert operation["summary"] == "echo: Send text, get it back"
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["required"] == ["text"] and schema["properties"]["times"]["enum"] == [1, 2, 3]
    assert operation["requestBody"]["required"] is True
    generic = doc["paths"]["/admin/api/connections/{type}/{name}/actions/{action}"]["post"]
    assert "requestBody" in generic
