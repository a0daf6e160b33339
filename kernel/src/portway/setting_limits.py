"""Bounds on what a setting may hold: which characters, how long, how big in all.

Every text setting of every plugin gets them, so no plugin has to remember:

- no control characters (C0, DEL, C1) and no bidirectional-override or
  -mark characters, which can hide what a name or host really says in a
  terminal or browser (U+200E/F, U+202A-E, U+2066-9). Tabs and line breaks
  only in multi-line fields (:func:`portway.settings_marks.is_multiline`)
  and secrets (an inline private key has lines);
- at most :data:`MAX_TEXT` characters per text, unless the plugin's model
  sets its own ``max_length`` for the field;
- at most :data:`MAX_SETTINGS_BYTES` for all the settings of one item, as JSON.

Messages name the field and the character's code point, never the value.
"""

from __future__ import annotations

import json
from typing import Any

from annotated_types import MaxLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from portway.errors import ConfigError, SettingError
from portway.settings_marks import is_multiline

MAX_TEXT = 4096
MAX_SETTINGS_BYTES = 64 * 1024
_BIDI = frozenset([0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_LINE_BREAKS = frozenset(["\t", "\n", "\r"])


def bad_character(text: str, *, lines: bool = False) -> str | None:
    """A description of the first character ``text`` may not hold, or ``None``.

    ``lines`` allows tabs and line breaks.
    """
    for position, char in enumerate(text):
        code = ord(char)
        if lines and char in _LINE_BREAKS:
            continue
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return f"a control character (U+{code:04X}) at position {position + 1}"
        if code in _BIDI:
            return f"a bidirectional-text control (U+{code:04X}) at position {position + 1}"
    return None


def check_settings(
    model: type[BaseModel], settings: dict[str, Any], label: str, secrets: frozenset[str]
) -> None:
    """Raise :class:`SettingError` for the first setting holding too much or a forbidden character."""
    size = len(json.dumps(settings, default=str).encode())
    if size > MAX_SETTINGS_BYTES:
        raise ConfigError(label, f"the settings take {size} bytes as JSON; at most {MAX_SETTINGS_BYTES} may")
    fields = _fields_by_key(model)
    for key, value in settings.items():
        if key not in fields:
            continue  # unknown settings are refused by name elsewhere
        name, info = fields[key]
        lines = name in secrets or is_multiline(name, info)
        _check_value(value, label, key, lines=lines, limit=_limit(info))


def _check_value(value: Any, label: str, field: str, *, lines: bool, limit: int) -> None:
    if isinstance(value, str):
        if len(value) > limit:
            raise SettingError(label, field, f"{len(value)} characters long; at most {limit} may be given")
        problem = bad_character(value, lines=lines)
        if problem is not None:
            hint = "" if lines else "; give it on one line"
            raise SettingError(label, field, f"holds {problem}; remove it{hint}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(str(key), label, field, lines=False, limit=MAX_TEXT)
            _check_value(item, label, f"{field}.{key}", lines=lines, limit=MAX_TEXT)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, label, f"{field}[{index}]", lines=lines, limit=limit)


def _limit(info: FieldInfo) -> int:
    own = [mark.max_length for mark in info.metadata if isinstance(mark, MaxLen)]
    return max(own) if own else MAX_TEXT


def _fields_by_key(model: type[BaseModel]) -> dict[str, tuple[str, FieldInfo]]:
    """Field name and info by every key a setting may be given under (its name or alias)."""
    found = {name: (name, info) for name, info in model.model_fields.items()}
    found.update({info.alias: (name, info) for name, info in model.model_fields.items() if info.alias})
    return found
