"""Settings as a plugin's model validates them: what is stored, and what is compared.

Only the settings a user gave are stored, each in the form the model
validated it to (``"size": "4"`` is stored as ``4``, an encoding name in
its canonical spelling), so every entry point stores the same thing and a
later change to a plugin's defaults reaches every item that did not set
the field.

A setting holding a ``${VAR}`` reference is kept as typed: the variable is
read only when the settings are used. An item holding references is
validated whole with the references as text; when that fails only where
references are (a ``${PORTWAY_PORT}`` is no number yet), its other settings
are validated field by field, and the whole model again at use.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined, to_jsonable_python

from portway import envvars
from portway.errors import SettingError


def check_known(model: type[BaseModel], raw: dict[str, Any], label: str) -> None:
    """Refuse a setting the model has no field (or alias) for, naming it and the known ones."""
    known = {info.alias or key for key, info in model.model_fields.items()} | set(model.model_fields)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingError(
            label, unknown[0], f"unknown setting; known: {', '.join(sorted(model.model_fields))}"
        )


def validate(model: type[BaseModel], values: dict[str, Any], label: str) -> BaseModel:
    """The model built from ``values``; a :class:`SettingError` names the first bad field."""
    check_known(model, values, label)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise setting_error(label, exc) from None


def coerced(model: type[BaseModel], given: dict[str, Any], label: str) -> dict[str, Any]:
    """The given settings in their validated form, ``${VAR}`` references kept as typed."""
    check_known(model, given, label)
    with_refs = {key for key, value in given.items() if envvars.has_reference(value)}
    try:
        built = model.model_validate(given)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not _deferred(e, with_refs)]
        if errors or not with_refs:
            raise setting_error(label, exc, errors or None) from None
        return {
            key: value if key in with_refs else _field_value(model, key, value, label)
            for key, value in given.items()
        }
    return {
        key: given[key] if key in with_refs else stored_form(getattr(built, _name(model, key)))
        for key in given
    }


def effective(model: type[BaseModel], key: str, values: dict[str, Any]) -> Any:
    """What ``key`` amounts to in ``values``: its coerced value, or the field's default when unset."""
    info = model.model_fields[key]
    if key not in values:
        default = info.get_default(call_default_factory=True)
        return None if default is PydanticUndefined else stored_form(default)
    value = values[key]
    if envvars.has_reference(value):
        return value
    try:
        return stored_form(_adapter(model, key).validate_python(value))
    except ValidationError:
        return value


def stored_form(value: Any) -> Any:
    """A validated value as JSON stores it; a secret as its text (sealed before it is stored)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return to_jsonable_python(value)


def setting_error(label: str, exc: ValidationError, errors: list[Any] | None = None) -> SettingError:
    """The first of pydantic's errors as a :class:`SettingError`; its message never holds the value."""
    first = (errors or exc.errors())[0]
    field = ".".join(str(p) for p in first["loc"]) or "(settings)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown setting; check the spelling (see --help for the settings)"
    if first["type"] == "missing":
        message = "required; give a value"
    return SettingError(label, field, message)


def _deferred(error: Any, with_refs: set[str]) -> bool:
    """An error that may vanish once references are resolved: at a field holding one, or model-wide."""
    loc = error["loc"]
    return not loc or str(loc[0]) in with_refs


def _field_value(model: type[BaseModel], key: str, value: Any, label: str) -> Any:
    try:
        return stored_form(_adapter(model, _name(model, key)).validate_python(value))
    except ValidationError as exc:
        error = setting_error(label, exc)
        raise SettingError(label, key, error.problem) from None


def _name(model: type[BaseModel], key: str) -> str:
    if key in model.model_fields:
        return key
    return next(name for name, info in model.model_fields.items() if info.alias == key)


@functools.lru_cache(maxsize=512)
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """One field's type and constraints on their own (its model's validators are not run)."""
    info = model.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]  # built at run time
