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
