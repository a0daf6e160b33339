"""The contract cannot drift from its docs: every hook and CLI command is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from portway import hookspecs
from portway.cli import BUILTIN_COMMANDS

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("portway_")]


def test_there_are_hooks() -> None:
    assert len(HOOKS) == 6


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_documented_with_its_signature(hook: str) -> None:
    text = (DOCS / "plugins.md").read_text()
    signature = inspect.signature(getattr(hookspecs, hook))
    params = ", ".join(signature.parameters)
    heading = re.search(rf"^## {hook}\(([^)]*)\)", text, re.MULTILINE)
    assert heading, f"docs/plugins.md has no '## {hook}(...)' heading"
    assert heading.group(1) == params, f"docs say {hook}({heading.group(1)}), code says {hook}({params})"


@pytest.mark.parametrize("command", sorted(BUILTIN_COMMANDS))
def test_cli_command_documented(command: str) -> None:
    text = (DOCS / "cli.md").read_text()
    assert re.search(rf"^## portway {command}\b", text, re.MULTILINE), (
        f"docs/cli.md lacks '## portway {command}'"
    )


def test_every_admin_route_is_in_openapi_and_documented(portway_env: object) -> None:
    from portway.runtime import Runtime
    from portway.server.admin_api import AdminApi
    from portway.server.openapi import _ENDPOINTS

    runtime = Runtime(portway_env)  # type: ignore[arg-type]
    try:
        routes = {
            (method.lower(), "/admin/api" + route.path)
            for route in AdminApi(runtime).routes()
            for method in (route.methods or ()) - {"HEAD"}
        }
    finally:
        runtime.close()
    in_openapi = {(method, path) for method, path, *_ in _ENDPOINTS}
    assert routes == in_openapi
    text = (DOCS / "admin-api.md").read_text()
    for _method, path in sorted(routes):
        assert path in text, f"docs/admin-api.md does not mention {path}"


def _marks() -> list[str]:
    from portway import settings_marks

    return list(settings_marks.__all__)


@pytest.mark.parametrize("name", _marks())
def test_settings_marks_are_documented(name: str) -> None:
    text = (DOCS / "plugins.md").read_text()
    assert "`portway.settings_marks`" in text and f"`{name}" in text, f"docs/plugins.md lacks `{name}`"


@pytest.mark.parametrize("field", ["file_roots", "env_prefix"])
def test_security_settings_are_documented(field: str) -> None:
    from portway.environment import SecuritySection

    assert field in SecuritySection.model_fields
    assert f"`[security] {field}`" in (DOCS / "configuration.md").read_text()
    assert f"`{field}`" in (DOCS / "security.md").read_text()


def _testing_names() -> list[str]:
    """What portway.testing offers: its fixtures, and its functions and classes not starting with _."""
    from portway import testing

    names = []
    for name, value in vars(testing).items():
        if name.startswith("_") or getattr(value, "__module__", None) != testing.__name__:
            continue
        if inspect.isfunction(value) or inspect.isclass(value) or hasattr(value, "_fixture_function"):
            names.append(name)
    return sorted(names)


@pytest.mark.parametrize("name", _testing_names())
def test_testing_helpers_are_documented(name: str) -> None:
    assert f"`{name}" in (DOCS / "testing.md").read_text(), f"docs/testing.md lacks `{name}`"


@pytest.mark.parametrize(
    ("shown", "target"),
    [
        ("runtime.catalog.create(", "portway.catalog:Catalog.create"),
        ("portway_server.request(", "portway.testing:ServerHandle.request"),
        ("create_connection(", "portway.testing:create_connection"),
        ("run_action(", "portway.testing:run_action"),
    ],
)
def test_documented_signatures_match_the_code(shown: str, target: str) -> None:
    import importlib

    module, _, path = target.partition(":")
    value: object = importlib.import_module(module)
    for part in path.split("."):
        value = getattr(value, part)
    params = [p for p in inspect.signature(value).parameters.values() if p.name not in ("self", "runtime")]
    text = (DOCS / "testing.md").read_text()
    code = [p.name.removesuffix("_name") for p in params if p.kind is not p.VAR_KEYWORD and p.name != "unset"]
    shapes = []
    for found in re.finditer(re.escape(shown) + r"([^)]*)\)", text):
        documented = [part.strip().split("=")[0].strip() for part in found.group(1).split(",")]
        shapes.append([d for d in documented if d not in ("runtime", "*")])
    assert code in shapes, f"docs/testing.md shows {shown}...) as {shapes}; the code takes {code}"
