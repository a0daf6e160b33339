"""Marks a plugin puts on its settings fields so the kernel knows what they hold.

Put them in the field's type with :data:`typing.Annotated`::

    from typing import Annotated
    from portway.settings_marks import FileSetting, MultiLine, SecretAudience

    class ExampleSettings(BaseModel):
        host: Annotated[str, SecretAudience()] = Field(description="Server host")
        ca_file: Annotated[str, FileSetting()] = Field("", description="PEM CA file")
        banner: Annotated[str, MultiLine()] = Field("", description="Text sent after login")

- :class:`FileSetting`: the value names a file on the server. The kernel
  refuses paths outside ``[security] file_roots`` and the environment's own
  key, config, database and log files, when the setting is saved and again
  when it is used.
- :class:`SecretAudience`: the value says who receives the secrets
  (``SecretStr`` fields). Changing it clears the stored secrets unless they
  are given again, so a stored password cannot be sent somewhere new. A
  model that marks no field gets :data:`DEFAULT_AUDIENCE`.
- :class:`MultiLine`: the text may hold line breaks. Every other ``str``
  setting is one line, without control or bidirectional-override characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = [
    "DEFAULT_AUDIENCE",
    "FileSetting",
    "MultiLine",
    "SecretAudience",
    "audience_fields",
    "file_fields",
    "is_multiline",
]

DEFAULT_AUDIENCE = frozenset({"host", "port", "username", "user"})
"""The audience of a model that marks none: those of its fields with these names."""

# Names the console has always shown as text areas; a text area must accept what it shows.
_MULTILINE_NAMES = frozenset({"script", "payload", "data", "body", "message", "text", "content", "commands"})


def _one_path(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, str) and item]
    return []


@dataclass(frozen=True)
class FileSetting:
    """The setting names one file (or a list of files) on the server.

    ``paths(value) -> paths`` gives the files a value names when it is not
    simply a path, e.g. the ``IdentityFile`` entries of a list of SSH
    options. Empty values name no file.
    """

    paths: Callable[[Any], Iterable[str]] = _one_path
    folder: bool = False  # names a folder the server writes in: it may not hold the environment's files


@dataclass(frozen=True)
class SecretAudience:
    """Changing this setting's value clears the item's stored secrets unless they are given again."""


@dataclass(frozen=True)
class MultiLine:
    """This text setting may hold line breaks and tabs."""


def _marks(info: FieldInfo, kind: type[Any]) -> list[Any]:
    return [mark for mark in info.metadata if isinstance(mark, kind)]


def file_fields(model: type[BaseModel]) -> dict[str, FileSetting]:
    """The model's fields marked :class:`FileSetting`, with their marks."""
    found = {}
    for name, info in model.model_fields.items():
        marks = _marks(info, FileSetting)
        if marks:
            found[name] = marks[0]
    return found


def audience_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields marked :class:`SecretAudience`; none marked: those named in :data:`DEFAULT_AUDIENCE`."""
    marked = {name for name, info in model.model_fields.items() if _marks(info, SecretAudience)}
    return frozenset(marked) if marked else DEFAULT_AUDIENCE & set(model.model_fields)


def is_multiline(name: str, info: FieldInfo) -> bool:
    """Whether a text field may hold line breaks.

    True when marked :class:`MultiLine`, when ``json_schema_extra`` asks for
    ``{"widget": "textarea"}``, or when its name says it holds a body of text
    (``script``, ``payload``, ``data``, ``body``, ``message``, ``text``,
    ``content``, ``commands``).
    """
    extra = info.json_schema_extra
    wanted = extra.get("widget") if isinstance(extra, dict) else None
    return bool(_marks(info, MultiLine)) or wanted == "textarea" or name in _MULTILINE_NAMES
