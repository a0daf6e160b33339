"""``${VAR}`` references in settings: checked when saved, resolved from the process environment when used.

A reference may name only a variable whose name starts with the
environment's ``[security] env_prefix`` (``PORTWAY_`` by default), so a
setting cannot read the server's other variables (``HOME``, a cloud
credential). Saving checks the syntax and the prefix only; the variable
need not be set where the setting is saved. When the setting is used, a
missing variable is an error that names it; it never turns into an empty
string or a placeholder. ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from portway.errors import ConfigError

_REF = re.compile(r"\$\$\{|\$\{(?:([A-Za-z_][A-Za-z0-9_]*)\})?")
_HOW = "write ${NAME} (letters, digits and _) or $${ for a literal ${"


def check(value: Any, where: str, prefix: str) -> None:
    """Raise :class:`ConfigError` for a malformed reference or one to a variable without ``prefix``."""
    for name, place in _references(value, where):
        _allowed(name, place, prefix)


def has_reference(value: Any) -> bool:
    """Whether ``value`` (or anything inside it) holds a ``${VAR}`` reference, well formed or not."""
    return any(True for _ in _references(value, "", strict=False))


def resolve(value: Any, where: str, prefix: str = "", environ: Mapping[str, str] | None = None) -> Any:
    """Return ``value`` with every ``${VAR}`` replaced, recursing into dicts and lists."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        return _resolve_text(value, where, prefix, env)
    if isinstance(value, dict):
        return {k: resolve(v, f"{where}.{k}", prefix, env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, f"{where}[{i}]", prefix, env) for i, v in enumerate(value)]
    return value


def _references(value: Any, where: str, strict: bool = True) -> Iterator[tuple[str, str]]:
    """``(variable, where)`` for every reference; a malformed one raises (or, not strict, counts)."""
    if isinstance(value, str):
        for match in _REF.finditer(value):
            if match.group(0) == "$${":
                continue
            name = match.group(1)
            if name is None and strict:
                raise ConfigError(where, f"'${{' starts no valid reference; {_HOW}")
            yield name or "", where
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _references(item, f"{where}.{key}", strict)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, f"{where}[{index}]", strict)


def _allowed(name: str, where: str, prefix: str) -> None:
    if prefix and not name.startswith(prefix):
        raise ConfigError(
            where,
            f"${{{name}}} names a variable without the prefix {prefix}: settings may read only "
            f"variables whose names start with {prefix} ([security] env_prefix), so that they cannot "
            f"read the server's other variables; use e.g. ${{{prefix}{name}}}",
        )


def _resolve_text(text: str, where: str, prefix: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if name is None:
            raise ConfigError(where, f"'${{' starts no valid reference; {_HOW}")
        _allowed(name, where, prefix)
        if name not in env:
            raise ConfigError(
                where,
                f"environment variable {name} is not set; set it where the server runs or change the setting",
            )
        return env[name]

    return _REF.sub(substitute, text)
