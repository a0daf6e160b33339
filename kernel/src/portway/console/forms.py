"""HTML forms generated from pydantic models: fields, redisplay, and parsing back.

Widgets follow the field's type: ``bool`` a checkbox, numbers and ``str``
a text box (so ``${VAR}`` references can be typed anywhere), ``SecretStr``
a password box that is never filled in, ``Literal``/``Enum`` a select
(whose text is converted back to the field's value: ``"3"`` is the ``3``
of a ``Literal[2, 3]``),
anything structured a JSON text area. A ``str`` field becomes a text area
when it may hold lines (:func:`portway.settings_marks.is_multiline`).
"""

from __future__ import annotations

import enum
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from portway import choices as choice_fields
from portway.settings_marks import is_multiline

Widget = Literal["text", "number", "password", "checkbox", "select", "textarea", "json"]


@dataclass(frozen=True)
class FormField:
    """One input of a generated form."""

    name: str
    label: str
    help: str
    widget: Widget
    required: bool
    choices: tuple[str, ...] = ()
    default: str = ""
    annotation: Any = None  # the field's type, for turning a chosen text into its value

    @property
    def secret(self) -> bool:
        return self.widget == "password"


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``(inner type, optional?)`` for ``X | None``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _widget(name: str, info: FieldInfo) -> tuple[Widget, tuple[str, ...]]:
    inner, optional = _unwrap(info.annotation)
    if inner is SecretStr:
        return "password", ()
    if inner is bool:
        # An optional bool has three states (unset means "the server's default"): a checkbox has two.
        return ("select", ("true", "false")) if optional else ("checkbox", ())
    if inner in (int, float):
        return "number", ()
    if choice_fields.values_of(inner):
        return "select", choice_fields.texts_of(inner)
    if inner is str or (isinstance(inner, type) and issubclass(inner, str)):
        return ("textarea" if is_multiline(name, info) else "text"), ()
    if isinstance(inner, type) and inner.__module__ == "pathlib":
        return "text", ()
    return "json", ()


def fields_of(model: type[BaseModel], prefix: str = "") -> list[FormField]:
    """The form fields for ``model``, in declaration order."""
    found = []
    for name, info in model.model_fields.items():
        widget, choices = _widget(name, info)
        default = "" if info.is_required() else _shown(info.get_default(call_default_factory=True), widget)
        found.append(
            FormField(
                name=prefix + name,
                label=info.title or name.replace("_", " "),
                help=info.description or "",
                widget=widget,
                required=info.is_required(),
                choices=choices,
                default="" if widget == "password" else default,
                annotation=info.annotation,
            )
        )
    return found


def _shown(value: Any, widget: Widget = "text") -> str:
    if value is None or value is PydanticUndefined:
        return ""
    if isinstance(value, bool) and widget == "select":
        return "true" if value else "false"
    if isinstance(value, SecretStr):
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)


def shown_values(fields: list[FormField], values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Stored values as form text; secrets are never included."""
    shown = {}
    for f in fields:
        key = f.name[len(prefix) :]
        if f.secret or key not in values:
            continue
        shown[f.name] = _shown(values[key], f.widget)
    return shown


def typed_values(fields: list[FormField], form: Any) -> dict[str, str]:
    """What the user typed, to show the form again after an error; secrets are dropped."""
    kept = {}
    for f in fields:
        if f.secret:
            continue
        if f.widget == "checkbox":
            kept[f.name] = "on" if form.get(f.name) else ""
        else:
            kept[f.name] = str(form.get(f.name, ""))
    return kept


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # a ${VAR} reference or a typo: the model says which


def _typed(f: FormField, text: str) -> tuple[Any, str]:
    """A box's text as the value to send, or an error; numbers and JSON are read, the rest is text."""
    if f.widget == "number":
        return _number(text), ""
    if f.widget == "select" and choice_fields.values_of(f.annotation):
        return choice_fields.from_text(f.annotation, text), ""
    if f.widget == "json":
        try:
            return json.loads(text), ""
        except ValueError as exc:
            return None, f"not valid JSON: {exc}"
    return text, ""


def _text(f: FormField, form: Any) -> str:
    raw = form.get(f.name)
    if f.widget == "checkbox":
        return "on" if raw else ""
    text = "" if raw is None else str(raw)
    return text if f.widget == "textarea" else text.strip()


def parse(fields: list[FormField], form: Any, *, prefix: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """Form data to a dict of values (action arguments), and field errors found before the model sees it.

    Empty boxes are left out, so the model's defaults apply.
    """
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        key = f.name[len(prefix) :]
        text = _text(f, form)
        if f.widget == "checkbox":
            data[key] = bool(text)
        elif text:
            data[key], error = _typed(f, text)
            if error:
                errors[f.name] = error
    return data, errors


@dataclass(frozen=True)
class Changes:
    """What a saved form changes: settings to set, settings back to their defaults, field errors."""

    set: dict[str, Any]
    unset: tuple[str, ...]
    errors: dict[str, str]


def changes(fields: list[FormField], form: Any, shown: dict[str, str], *, prefix: str = "") -> Changes:
    """Only what the user changed from what the form showed (``shown``: defaults, or stored values).

    A box left as shown changes nothing, so a new item stores only what was
    typed and a plugin's later default reaches it. An emptied box (or the
    "(default)" choice) sets the field back to its default; an empty secret
    keeps the stored one.
    """
    data: dict[str, Any] = {}
    unset: list[str] = []
    errors: dict[str, str] = {}
    for f in fields:
        key = f.name[len(prefix) :]
        text = _text(f, form)
        if f.secret:
            if text:
                data[key] = text
            continue
        if text == shown.get(f.name, ""):
            continue
        if f.widget == "checkbox":
            data[key] = bool(text)
        elif not text and f.required:
            errors[f.name] = "required; give a value"
        elif not text:
            unset.append(key)
        else:
            data[key], error = _typed(f, text)
            if error:
                errors[f.name] = error
    return Changes(data, tuple(unset), errors)


def validation_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """Pydantic errors keyed by form field name (first error per field)."""
    errors: dict[str, str] = {}
    for item in exc.errors():
        field = prefix + (str(item["loc"][0]) if item["loc"] else "")
        message = "required; give a value" if item["type"] == "missing" else item["msg"]
        errors.setdefault(field, message)
    return errors
