"""HTML forms generated from pydantic models: fields, redisplay, and parsing back.

Widgets follow the field's type: ``bool`` a checkbox, numbers and ``str``
a text box (so ``${VAR}`` references can be typed anywhere), ``SecretStr``
a password box that is never filled in, ``Literal``/``Enum`` a select,
anything structured a JSON text area. A ``str`` field becomes a text area
when its ``json_schema_extra`` says ``{"widget": "textarea"}`` or its name
says it holds a body of text (``script``, ``payload``, ``data``...).
"""

from __future__ import annotations

import enum
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import PydanticUndefined, to_jsonable_python

Widget = Literal["text", "number", "password", "checkbox", "select", "textarea", "json"]
_TEXT_AREA_NAMES = {"script", "payload", "data", "body", "message", "text", "content", "commands"}


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


def _widget(name: str, annotation: Any, extra: Any) -> tuple[Widget, tuple[str, ...]]:
    inner, optional = _unwrap(annotation)
    if inner is SecretStr:
        return "password", ()
    if inner is bool:
        # An optional bool has three states (unset means "the server's default"): a checkbox has two.
        return ("select", ("true", "false")) if optional else ("checkbox", ())
    if inner in (int, float):
        return "number", ()
    if typing.get_origin(inner) is Literal:
        return "select", tuple(str(v) for v in typing.get_args(inner))
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return "select", tuple(str(m.value) for m in inner)
    if inner is str or (isinstance(inner, type) and issubclass(inner, str)):
        wanted = extra.get("widget") if isinstance(extra, dict) else None
        return ("textarea" if wanted == "textarea" or name in _TEXT_AREA_NAMES else "text"), ()
    if isinstance(inner, type) and inner.__module__ == "pathlib":
        return "text", ()
    return "json", ()


def fields_of(model: type[BaseModel], prefix: str = "") -> list[FormField]:
    """The form fields for ``model``, in declaration order."""
    found = []
    for name, info in model.model_fields.items():
        widget, choices = _widget(name, info.annotation, info.json_schema_extra)
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


def parse(
    model: type[BaseModel], fields: list[FormField], form: Any, *, editing: bool, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """Form data to a settings dict, and field errors found before the model sees it.

    Empty boxes mean "the default" (on create they are left out; on edit
    they are set back to the default). An empty secret is left out, which
    on edit keeps the stored one.
    """
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        key = f.name[len(prefix) :]
        raw = form.get(f.name)
        if f.widget == "checkbox":
            data[key] = bool(raw)
            continue
        text = "" if raw is None else str(raw)
        if f.widget != "textarea":
            text = text.strip()
        if text == "":
            if f.secret:
                continue
            if f.required:
                if editing:
                    errors[f.name] = "required; give a value"
                continue
            if editing:
                data[key] = to_jsonable_python(model.model_fields[key].get_default(call_default_factory=True))
            continue
        if f.widget == "number":
            data[key] = _number(text)
        elif f.widget == "json":
            try:
                data[key] = json.loads(text)
            except ValueError as exc:
                errors[f.name] = f"not valid JSON: {exc}"
        else:
            data[key] = text
    return data, errors


def validation_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """Pydantic errors keyed by form field name (first error per field)."""
    errors: dict[str, str] = {}
    for item in exc.errors():
        field = prefix + (str(item["loc"][0]) if item["loc"] else "")
        message = "required; give a value" if item["type"] == "missing" else item["msg"]
        errors.setdefault(field, message)
    return errors
