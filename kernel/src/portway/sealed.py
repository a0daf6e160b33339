"""How a stored secret looks: sealed in the store, masked in every view.

Kept apart from :mod:`portway.catalog` so that reading items (``portway conn
list``, ``show``) needs the store alone, not the plugins that validate writes.
"""

from __future__ import annotations

from typing import Any

from portway.store import StoredItem

SEALED = "$sealed"  # {"$sealed": "<Fernet token>"}: an encrypted secret as stored
MASK = "********"  # a secret as every view shows it


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and SEALED in value


def masked(item: StoredItem) -> StoredItem:
    """``item`` with each sealed secret shown as :data:`MASK`."""
    settings = {key: MASK if is_sealed(value) else value for key, value in item.settings.items()}
    return StoredItem(item.kind, item.type, item.name, settings, item.pool, item.updated_at)
