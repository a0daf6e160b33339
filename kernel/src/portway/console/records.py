"""Action results that are lists of records, shown as tables on the action's page.

Any plugin's action may answer with a list of flat dicts (same keys, plain
values), such as the rows of a listing; the console shows each such list as
a table with a column per key, instead of as JSON. Nothing here knows which
plugin answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    """One list of records: its key in the result, the columns, the cells as text."""

    label: str
    columns: list[str]
    rows: list[list[str]]


def tables_of(result: Any) -> list[Table]:
    """The top-level values of a dict result that are non-empty lists of flat dicts."""
    if not isinstance(result, dict):
        return []
    return [_table(str(key), value) for key, value in result.items() if _is_records(value)]


def _is_records(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(row, dict) for row in value)
        and all(not isinstance(cell, dict | list) for row in value for cell in row.values())
    )


def _table(label: str, rows: list[dict[str, Any]]) -> Table:
    columns = list(dict.fromkeys(str(key) for row in rows for key in row))
    return Table(label, columns, [[_cell(row.get(column)) for column in columns] for row in rows])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
