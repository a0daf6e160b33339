"""``${VAR}`` references in settings, resolved from the process environment.

A missing variable is an error that names it; it never turns into an empty
string or a placeholder. ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from portway.errors import ConfigError

_REF = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def resolve(value: Any, where: str, environ: Mapping[str, str] | None = None) -> Any:
    """Return ``value`` with every ``${VAR}`` replaced, recursing into dicts and lists."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        return _resolve_text(value, where, env)
    if isinstance(value, dict):
        return {k: resolve(v, f"{where}.{k}", env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, f"{where}[{i}]", env) for i, v in enumerate(value)]
    return value


def _resolve_text(text: str, where: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "${"
        if name not in env:
            raise ConfigError(where, f"environment variable {name} is not set; set it or change the setting")
        return env[name]

    return _REF.sub(substitute, text)
