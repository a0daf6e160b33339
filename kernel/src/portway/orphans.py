"""Stored connections and channels whose type no loaded plugin declares (disabled, failed, uninstalled).

They stay in the store as they are: nothing can validate or run them until
their plugin loads again. The server logs each one when it starts and the
console's dashboard lists them, so they are not silently dead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from portway.plugins import Plugins
from portway.store import Store


@dataclass(frozen=True)
class Orphan:
    """One stored item without its type, and why the type is missing."""

    kind: str
    type: str
    name: str
    reason: str


def find(plugins: Plugins, store: Store) -> list[Orphan]:
    """Every stored item whose type is not loaded, by kind, type and name."""
    found = []
    kinds: list[tuple[Literal["connection", "channel"], dict[str, Any]]] = [
        ("connection", plugins.connection_types),
        ("channel", plugins.channel_types),
    ]
    for kind, types in kinds:
        for item in store.list(kind):
            if item.type not in types:
                hint = plugins.missing_hint(kind, item.type)
                found.append(
                    Orphan(kind, item.type, item.name, f"no {kind} type named {item.type!r}; {hint}")
                )
    return found
