"""docs/sftp.md cannot drift from the code: every setting, option, command and API call is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portway.files import FileClient
from portway_sftp.options import SUPPORTED
from portway_sftp.settings import SftpSettings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sftp.md").read_text()


@pytest.mark.parametrize("name", sorted(SftpSettings.model_fields))
def test_setting_in_table(name: str) -> None:
    assert re.search(rf"^\| `{name}` \|", DOC, re.MULTILINE), f"docs/sftp.md settings table lacks {name}"


def test_every_setting_has_a_description() -> None:
    for name, field in SftpSettings.model_fields.items():
        assert field.description, name


@pytest.mark.parametrize("option", sorted(SUPPORTED))
def test_ssh_option_documented(option: str) -> None:
    assert re.search(rf"`{option}`", DOC, re.IGNORECASE), f"docs/sftp.md lacks SSH option {option}"


@pytest.mark.parametrize(
    "method", sorted(n for n in dir(FileClient) if not n.startswith("_") and n != "execute")
)
def test_api_call_documented(method: str) -> None:
    assert f"conn.{method}(" in DOC, f"docs/sftp.md has no example of conn.{method}()"


def test_cli_commands_documented() -> None:
    assert "portway sftp exec ENV" in DOC and "portway sftp shell ENV" in DOC


def test_no_placeholders() -> None:
    assert "PLACEHOLDER" not in DOC
