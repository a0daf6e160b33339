"""Forms generated from settings models: widgets, redisplay without secrets, parsing back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from portway.console import forms


class Sample(BaseModel):
    host: str = Field(description="Server host")
    port: int = Field(22, ge=1, le=65535)
    password: SecretStr | None = Field(None, description="Password")
    mode: Literal["strict", "accept-new"] = "strict"
    verbose: bool = False
    persistent: bool | None = Field(None, description="Unset: the server's default")
    options: list[str] = Field(default_factory=list)
    script: str = ""


def _by_name() -> dict[str, forms.FormField]:
    return {f.name: f for f in forms.fields_of(Sample)}


def test_widgets_follow_the_field_types() -> None:
    fields = _by_name()
    assert (
        fields["host"].widget == "text" and fields["host"].required and fields["host"].help == "Server host"
    )
    assert fields["port"].widget == "number" and fields["port"].default == "22"
    assert fields["password"].widget == "password" and fields["password"].default == ""
    assert fields["mode"].widget == "select" and fields["mode"].choices == ("strict", "accept-new")
    assert fields["verbose"].widget == "checkbox"
    assert fields["persistent"].widget == "select" and fields["persistent"].choices == ("true", "false")
    assert fields["options"].widget == "json" and fields["options"].default == "[]"
    assert fields["script"].widget == "textarea"


def test_stored_values_are_shown_except_secrets() -> None:
    fields = forms.fields_of(Sample)
    shown = forms.shown_values(
        fields, {"host": "h", "port": 2222, "password": "********", "persistent": True}
    )
    assert shown == {"host": "h", "port": "2222", "persistent": "true"}
    typed = forms.typed_values(fields, {"host": "typed", "password": "hunter2", "verbose": "on"})
    assert "password" not in typed and typed["host"] == "typed" and typed["verbose"] == "on"


def test_create_leaves_empty_boxes_to_the_defaults() -> None:
    fields = forms.fields_of(Sample)
    form = {"host": " example.org ", "port": "", "password": "pw", "persistent": "", "options": '["a"]'}
    data, errors = forms.parse(fields, form)
    assert errors == {}
    assert data == {"host": "example.org", "password": "pw", "verbose": False, "options": ["a"]}
    assert Sample.model_validate(data).persistent is None


def test_a_form_sent_as_shown_changes_nothing() -> None:
    fields = forms.fields_of(Sample)
    defaults = {f.name: f.default for f in fields}
    as_shown = {**defaults, "host": "h"}
    changed = forms.changes(fields, as_shown, defaults)
    assert changed.set == {"host": "h"} and changed.unset == () and changed.errors == {}


def test_edit_unsets_emptied_boxes_and_keeps_empty_secrets_out() -> None:
    fields = forms.fields_of(Sample)
    stored = {"host": "h", "port": "2222", "persistent": "true", "options": '["a"]', "verbose": "on"}
    form = {"host": "h", "port": "", "password": "", "persistent": "false", "options": ""}
    changed = forms.changes(fields, form, stored)
    assert changed.errors == {}
    assert changed.set == {"persistent": "false", "verbose": False}
    assert set(changed.unset) == {"port", "options"}
    assert forms.changes(fields, {**form, "host": ""}, stored).errors == {"host": "required; give a value"}


def test_problems_are_reported_per_field() -> None:
    fields = forms.fields_of(Sample)
    shown = {"host": "h", "options": "[]"}
    errors = forms.changes(fields, {"host": "", "options": "[not json"}, shown).errors
    assert set(errors) == {"host", "options"}
    assert "JSON" in errors["options"]
    numbers, no_errors = forms.parse(fields, {"host": "h", "port": "${SSH_PORT}"})
    assert no_errors == {} and numbers["port"] == "${SSH_PORT}"
