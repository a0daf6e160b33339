"""Fixed-choice fields (``Literal``, ``Enum``) as the text a user picks, and back to their values.

A command-line choice and a console drop-down both hand over text: ``"3"``
for a ``Literal[2, 3]``, ``"2"`` for an ``Enum`` whose values are ints. The
model would refuse that text (``Input should be 2 or 3``), so each entry
point converts it through the field's own choices first.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any, Literal


def unwrapped(annotation: Any) -> Any:
    """``X | None`` (or ``Optional[X]``) as ``X``; anything else as it is."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    if origin is typing.Annotated:
        return unwrapped(typing.get_args(annotation)[0])
    return annotation


def values_of(annotation: Any) -> tuple[Any, ...]:
    """The values a ``Literal`` or ``Enum`` field takes (an enum's member values); ``()`` for others."""
    inner = unwrapped(annotation)
    if typing.get_origin(inner) is Literal:
        return tuple(typing.get_args(inner))
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return tuple(member.value for member in inner)
    return ()


def text_of(value: Any) -> str:
    """How a choice is shown and typed: an enum member by its value, the rest by ``str``."""
    if isinstance(value, enum.Enum):
        value = value.value
    return str(value)


def texts_of(annotation: Any) -> tuple[str, ...]:
    """The choices of a field as text, in declaration order."""
    return tuple(text_of(value) for value in values_of(annotation))


def from_text(annotation: Any, text: str) -> Any:
    """The choice whose text is ``text``; ``text`` itself when none is, for the model to refuse by name."""
    for value in values_of(annotation):
        if text_of(value) == text:
            return value
    return text
