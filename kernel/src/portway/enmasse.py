"""Every connection and channel as one YAML file: export it, keep it in git, import it elsewhere.

Export writes the store's items, sorted by type and name, as a document a
person can read and diff. Secrets are not written in clear unless asked:
each becomes a ``${VAR}`` reference named after its item
(``PORTWAY_<TYPE>_<NAME>_<FIELD>``), and the export says which variables to
set where the file is imported. A secret that is already a ``${VAR}``
reference is written as it is. An item whose type is not loaded (its
plugin disabled, failed or uninstalled) is exported as it is stored, its
sealed values taken as its secrets, with a warning saying why.

Import validates every item of a file against its plugin's settings model,
as any write does, and only when all of them are valid writes them in one
transaction: items the store lacks are created, items that differ are
updated, items the file does not name are left alone (or deleted, when
asked). Any problem is reported with the item it is in, and nothing is
written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from portway.catalog import Catalog, Kind, secret_fields
from portway.errors import ConfigError, NotFoundError, PortwayError
from portway.sealed import SEALED
from portway.store import StoredItem

FORMAT = 1
SECTIONS: dict[str, Kind] = {"connections": "connection", "channels": "channel"}
_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
Action = Literal["create", "update", "unchanged", "delete"]


class ItemDocument(BaseModel):
    """One connection or channel in an enmasse file."""

    model_config = ConfigDict(extra="forbid")

    type: str
    name: str
    settings: dict[str, Any]
    pool: dict[str, Any] = {}


class Document(BaseModel):
    """A whole enmasse file."""

    model_config = ConfigDict(extra="forbid")

    portway: int = FORMAT
    connections: list[ItemDocument] = []
    channels: list[ItemDocument] = []


@dataclass(frozen=True)
class Export:
    """An exported document, the variables its secret references need where it is imported, and
    warnings (an item exported unchecked because its type is not loaded)."""

    document: dict[str, Any]
    variables: tuple[str, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """What an import does to one item."""

    action: Action
    kind: Kind
    type: str
    name: str
    item: StoredItem | None = None  # sealed and ready to store (create and update)


@dataclass(frozen=True)
class Plan:
    """Every step of an import, worked out and validated before anything is written."""

    steps: tuple[Step, ...] = field(default_factory=tuple)

    def count(self, action: Action) -> int:
        return sum(1 for step in self.steps if step.action == action)

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.action != "unchanged")


def export(catalog: Catalog, *, include_secrets: bool = False) -> Export:
    """The store's connections and channels as an enmasse document."""
    document: dict[str, Any] = {"portway": FORMAT}
    variables: list[str] = []
    warnings: list[str] = []
    for section, kind in SECTIONS.items():
        entries = []
        for stored in catalog.store.list(kind):
            settings = catalog.unsealed(stored)
            try:
                secrets = secret_fields(catalog.model_for(kind, stored.type))
            except NotFoundError as exc:
                secrets = frozenset(
                    k for k, v in stored.settings.items() if isinstance(v, dict) and SEALED in v
                )
                warnings.append(f"{stored.type} {kind} {stored.name!r} exported as stored, unchecked: {exc}")
            for key in sorted(secrets & set(settings)):
                value = settings[key]
                if include_secrets or value in (None, "") or _REFERENCE.match(str(value)):
                    continue
                variable = variable_name(stored.type, stored.name, key)
                settings[key] = f"${{{variable}}}"
                variables.append(variable)
            entry: dict[str, Any] = {"type": stored.type, "name": stored.name, "settings": settings}
            if stored.pool:
                entry["pool"] = stored.pool
            entries.append(entry)
        document[section] = entries
    return Export(document, tuple(variables), tuple(warnings))


def variable_name(type_name: str, name: str, field_name: str) -> str:
    """``PORTWAY_<TYPE>_<NAME>_<FIELD>``, upper case, anything but letters and digits made ``_``."""
    return re.sub(r"[^A-Z0-9]+", "_", f"PORTWAY_{type_name}_{name}_{field_name}".upper()).strip("_")


def parse(text: str, source: str) -> Document:
    """Read an enmasse file; a :class:`ConfigError` names the file, and the line or item at fault."""
    import yaml  # type: ignore[import-untyped]  # no stubs in the lock; used for two calls

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark is not None else source
        raise ConfigError(where, f"not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(source, "expected a mapping with 'connections' and/or 'channels'")
    try:
        document = Document.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            known = Document.model_fields if len(first["loc"]) == 1 else ItemDocument.model_fields
            message = f"unknown key; expected one of: {', '.join(known)}"
        raise ConfigError(f"{source}: {where}", message) from None
    if document.portway != FORMAT:
        raise ConfigError(f"{source}: portway", f"format {document.portway} is not {FORMAT}; export it again")
    return document


def plan(catalog: Catalog, document: Document, *, delete_missing: bool = False) -> Plan:
    """Validate every item and work out what importing ``document`` does; write nothing.

    Raises :class:`ConfigError` naming the item (``connections[2] sftp 'bank'``) and what is wrong.
    """
    steps: list[Step] = []
    for section, kind in SECTIONS.items():
        existing = {(item.type, item.name): item for item in catalog.store.list(kind)}
        seen: set[tuple[str, str]] = set()
        for index, entry in enumerate(getattr(document, section)):
            key = (entry.type, entry.name)
            where = f"{section}[{index}] {entry.type} {entry.name!r}"
            if key in seen:
                raise ConfigError(where, "named twice in the file; keep one")
            seen.add(key)
            steps.append(_step(catalog, kind, entry, existing.get(key), where))
        if delete_missing:
            steps += [Step("delete", kind, t, n) for (t, n) in sorted(existing) if (t, n) not in seen]
    return Plan(tuple(steps))


def _step(catalog: Catalog, kind: Kind, entry: ItemDocument, current: StoredItem | None, where: str) -> Step:
    try:
        sealed = catalog.prepare(kind, entry.type, entry.name, entry.settings, entry.pool)
    except PortwayError as exc:
        raise ConfigError(where, str(exc)) from None
    if current is None:
        return Step("create", kind, entry.type, entry.name, sealed)
    # Compared in stored form: "port: '22'" in a file is the stored 22, not a change.
    if catalog.unsealed(current) == catalog.unsealed(sealed) and current.pool == sealed.pool:
        return Step("unchanged", kind, entry.type, entry.name)
    return Step("update", kind, entry.type, entry.name, sealed)


def apply(catalog: Catalog, planned: Plan) -> None:
    """Write the plan's changes in one transaction (all or none)."""
    if planned.changes:
        catalog.store.apply(
            creates=[s.item for s in planned.steps if s.action == "create" and s.item is not None],
            updates=[s.item for s in planned.steps if s.action == "update" and s.item is not None],
            deletes=[(s.kind, s.type, s.name) for s in planned.steps if s.action == "delete"],
        )
