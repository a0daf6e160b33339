"""Click options derived from a pydantic settings model: one ``--field`` per field.

Help text is the field's description; ``Literal`` and ``Enum`` become a
choice (converted back to the field's value, so ``Literal[2, 3]`` takes
``--x 3``), ``bool`` a ``--x/--no-x`` flag, lists repeat the option,
anything structured is JSON. Only options the user gave are returned, so
the model's defaults apply.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import click
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from portway import choices
from portway.errors import SettingError


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


_base = choices.unwrapped


def options_for(model: type[BaseModel], all_optional: bool = False) -> list[click.Option]:
    """One click option per field of ``model``."""
    options = []
    for name, info in model.model_fields.items():
        options.append(_option(name, info, all_optional))
    return options


def _option(name: str, info: FieldInfo, all_optional: bool) -> click.Option:
    annotation = _base(info.annotation)
    help_text = info.description or ""
    if info.is_required() and not all_optional:
        help_text += " [required]"
    elif info.default is not None and not isinstance(info.default, SecretStr) and info.default != "":
        help_text += f" [default: {info.default}]"
    if annotation is bool:
        flag = name.replace("_", "-")
        return click.Option([f"--{flag}/--no-{flag}", name], default=None, help=help_text)
    texts = choices.texts_of(annotation)
    if texts:
        return click.Option([option_name(name), name], type=click.Choice(texts), help=help_text)
    if typing.get_origin(annotation) in (list, tuple, set):
        return click.Option([option_name(name), name], multiple=True, help=help_text + " (repeatable)")
    click_type: Any = {int: click.INT, float: click.FLOAT}.get(annotation, click.STRING)
    if annotation is SecretStr:
        help_text += " (secret; '-' reads it from a hidden prompt)"
    return click.Option([option_name(name), name], type=click_type, help=help_text)


def collect(
    model: type[BaseModel], given: dict[str, Any], label: str, error: type[SettingError] = SettingError
) -> dict[str, Any]:
    """Settings (or arguments) from the options the user actually gave (None and empty repeats are
    skipped); a bad one is refused as ``error``."""
    settings: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = given.get(name)
        if value is None or value == ():
            continue
        annotation = _base(info.annotation)
        if annotation is SecretStr and value == "-":
            value = click.prompt(f"{name}", hide_input=True)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, str) and choices.values_of(annotation):
            value = choices.from_text(annotation, value)
        elif isinstance(value, str) and _is_structured(annotation):
            try:
                value = json.loads(value)
            except ValueError:
                raise error(label, name, f"give JSON for {option_name(name)}") from None
        settings[name] = value
    return settings


def parse_pairs(
    model: type[BaseModel],
    pairs: tuple[str, ...],
    label: str,
    option: str = "--setting",
    error: type[SettingError] = SettingError,
) -> dict[str, Any]:
    """``--setting key=value`` pairs (or ``option``'s, refused as ``error``: an ``ArgumentError`` for
    ``--arg``); a choice is converted, other non-text fields are read as JSON when they parse."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise error(label, pair, f"write {option} as key=value")
        info = model.model_fields.get(key)
        annotation = _base(info.annotation) if info is not None else None
        if choices.values_of(annotation):
            settings[key] = choices.from_text(annotation, value)
            continue
        try:
            settings[key] = value if annotation in (str, SecretStr) else json.loads(value)
        except ValueError:
            settings[key] = value
    return settings


def _is_structured(annotation: Any) -> bool:
    return (isinstance(annotation, type) and issubclass(annotation, BaseModel)) or typing.get_origin(
        annotation
    ) is dict
