"""Issue 18 item 5: Literal and Enum settings that are not text, from the CLI option and the console select.

Both hand over the text of a choice; each converts it through the field's
type, so the model gets ``3`` for a ``Literal[2, 3]`` and ``2`` for an
``Enum`` with int values. The click commands are the ones ``conn create``
builds; the forms are the ones the console renders and parses.
"""

from __future__ import annotations

import enum
from typing import Any, Literal

import click
from click.testing import CliRunner
from pydantic import BaseModel, Field

from portway.cli.model_options import parse_pairs
from portway.cli.typed import TypeGroup
from portway.console import forms


class Mode(enum.Enum):
    ACTIVE = 1
    PASSIVE = 2


class Flavour(enum.StrEnum):
    PLAIN = "plain"
    FANCY = "fancy"


class Sample(BaseModel):
    model_config = {"extra": "forbid"}

    host: str = Field(description="Server host")
    protocol: Literal[2, 3] = Field(2, description="Protocol version")
    mode: Mode = Field(Mode.ACTIVE, description="Transfer mode")
    ratio: Literal[0.5, 1.5] | None = None
    flavour: Flavour = Flavour.PLAIN
    code: Literal["1", "2"] = "1"  # text that looks like a number stays text


def _created(*args: str) -> dict[str, Any]:
    """What ``conn create ENV sample NAME ...`` would store, through the real click command."""
    given: dict[str, Any] = {}

    def apply(env: str, type_name: str, name: str, settings: dict[str, Any], pool: dict[str, Any]) -> None:
        given.update(settings)

    group = TypeGroup("create", kind="connection", apply=apply, all_optional=False)
    command = group._command("sample", Sample, "A sample")
    parent = click.Group("create", params=[click.Argument(["env"])], commands={"sample": command})
    result = CliRunner().invoke(parent, ["ENV", "sample", "n1", *args])
    assert result.exit_code == 0, result.output
    return given


def test_cli_options_take_int_float_and_enum_choices() -> None:
    settings = _created(
        "--host", "h", "--protocol", "3", "--mode", "2", "--ratio", "1.5", "--flavour", "fancy"
    )
    assert settings == {"host": "h", "protocol": 3, "mode": 2, "ratio": 1.5, "flavour": "fancy"}
    built = Sample.model_validate(settings)
    assert built.protocol == 3 and built.mode is Mode.PASSIVE and built.ratio == 1.5


def test_cli_option_help_offers_the_choices_as_text() -> None:
    group = TypeGroup("create", kind="connection", apply=lambda *a: None, all_optional=False)
    command = group._command("sample", Sample, "A sample")
    text = CliRunner().invoke(command, ["--help"]).output
    assert "[2|3]" in text and "[1|2]" in text and "[plain|fancy]" in text
    refused = CliRunner().invoke(command, ["n1", "--host", "h", "--protocol", "4"])
    assert refused.exit_code == 2 and "'4' is not one of '2', '3'" in refused.output


def test_setting_pairs_convert_choices_too() -> None:
    pairs = ("protocol=3", "mode=2", "code=2", "flavour=fancy")
    settings = parse_pairs(Sample, pairs, "sample connection 'n1'")
    assert settings == {"protocol": 3, "mode": 2, "code": "2", "flavour": "fancy"}
    Sample.model_validate({"host": "h", **settings})


def test_console_select_is_read_as_the_fields_value() -> None:
    fields = forms.fields_of(Sample)
    by_name = {f.name: f for f in fields}
    assert by_name["protocol"].choices == ("2", "3") and by_name["mode"].choices == ("1", "2")
    form = {"host": "h", "protocol": "3", "mode": "2", "ratio": "0.5", "flavour": "fancy", "code": "2"}
    data, errors = forms.parse(fields, form)
    assert errors == {}
    assert data == {"host": "h", "protocol": 3, "mode": 2, "ratio": 0.5, "flavour": "fancy", "code": "2"}
    assert Sample.model_validate(data).mode is Mode.PASSIVE


def test_console_changes_compare_text_and_send_values() -> None:
    fields = forms.fields_of(Sample)
    stored = {"host": "h", "protocol": 3, "mode": 2}
    shown = forms.shown_values(fields, stored)
    assert shown["protocol"] == "3" and shown["mode"] == "2"
    same = forms.changes(fields, {**shown}, shown)
    assert same.set == {} and same.unset == () and same.errors == {}
    moved = forms.changes(fields, {**shown, "protocol": "2", "mode": "1"}, shown)
    assert moved.set == {"protocol": 2, "mode": 1} and moved.errors == {}
    Sample.model_validate({**stored, **moved.set})
