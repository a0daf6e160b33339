"""Connections and channels as users configure them: validated, secrets sealed.

Every write is validated whole against the plugin's settings model before
anything is stored, so a bad config is rejected and nothing is written.
Secret fields (``SecretStr``) are encrypted before they reach the store and
shown back only as ``"********"``. ``${VAR}`` references are kept as typed
and resolved each time the settings are used.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel, SecretStr, ValidationError

from portway import envvars
from portway.encryption import SecretBox
from portway.errors import ConfigError, SettingError
from portway.plugins import Plugins
from portway.pool import PoolSettings
from portway.store import Store, StoredItem

Kind = Literal["connection", "channel"]
SEALED = "$sealed"
MASK = "********"
_NAME = re.compile(r"^[^\x00-\x1f/]{1,200}$")


def secret_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the fields typed ``SecretStr`` (optional or not)."""
    found = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = (
            typing.get_args(annotation)
            if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
            else ()
        )
        if annotation is SecretStr or SecretStr in args:
            found.add(name)
    return frozenset(found)


class Catalog:
    """CRUD over connections and channels, validated against plugin models."""

    def __init__(self, store: Store, box: SecretBox, plugins: Plugins) -> None:
        self.store = store
        self.box = box
        self.plugins = plugins

    def model_for(self, kind: Kind, type_name: str) -> type[BaseModel]:
        if kind == "connection":
            return self.plugins.connection_type(type_name).settings
        return self.plugins.channel_type(type_name).settings

    def create(
        self,
        kind: Kind,
        type_name: str,
        name: str,
        settings: dict[str, Any],
        pool: dict[str, Any] | None = None,
    ) -> StoredItem:
        """Validate and store a new item; raise without writing on any problem."""
        self.store.add(self.prepare(kind, type_name, name, settings, pool or {}))
        return self.show(kind, type_name, name)

    def prepare(
        self, kind: Kind, type_name: str, name: str, settings: dict[str, Any], pool: dict[str, Any]
    ) -> StoredItem:
        """The item as it would be stored: name checked, validated whole, secrets sealed. Writes nothing."""
        self._check_name(kind, name)
        return self._sealed_item(kind, type_name, name, settings, pool)

    def unsealed(self, item: StoredItem) -> dict[str, Any]:
        """A stored item's settings with secrets decrypted, ``${VAR}`` references left as typed."""
        return self._unseal(item.settings, f"{item.type} {item.kind} {item.name!r}")

    def update(
        self,
        kind: Kind,
        type_name: str,
        name: str,
        settings: dict[str, Any],
        pool: dict[str, Any] | None = None,
    ) -> StoredItem:
        """Change some settings; unnamed ones (and secrets left empty) keep their values."""
        current = self.store.get(kind, type_name, name)
        secrets = secret_fields(self.model_for(kind, type_name))
        merged = self._unseal(current.settings, f"{type_name} {kind} {name!r}")
        merged.update({k: v for k, v in settings.items() if not (k in secrets and v in ("", None, MASK))})
        pool_data = {**current.pool, **(pool or {})}
        self.store.replace(self._sealed_item(kind, type_name, name, merged, pool_data))
        return self.show(kind, type_name, name)

    def _sealed_item(
        self, kind: Kind, type_name: str, name: str, settings: dict[str, Any], pool: dict[str, Any]
    ) -> StoredItem:
        """Validate settings and pool whole, then seal the secrets: ready to store."""
        model = self.model_for(kind, type_name)
        label = f"{type_name} {kind} {name!r}"
        self._validate(model, settings, label)
        pool_data = self._validate_pool(kind, pool, label)
        return StoredItem(kind, type_name, name, self._seal(model, settings), pool_data, 0.0)

    def delete(self, kind: Kind, type_name: str, name: str) -> None:
        self.store.delete(kind, type_name, name)

    def list(self, kind: Kind, type_name: str | None = None) -> list[StoredItem]:
        return [self._view(item) for item in self.store.list(kind, type_name)]

    def show(self, kind: Kind, type_name: str, name: str) -> StoredItem:
        return self._view(self.store.get(kind, type_name, name))

    def resolve(self, kind: Kind, type_name: str, name: str) -> BaseModel:
        """The item's settings, secrets decrypted and ``${VAR}`` resolved, validated."""
        item = self.store.get(kind, type_name, name)
        return self.resolve_item(item)

    def resolve_item(self, item: StoredItem) -> BaseModel:
        model = self.model_for(item.kind, item.type)  # type: ignore[arg-type]
        label = f"{item.type} {item.kind} {item.name!r}"
        return self._validate(model, self._unseal(item.settings, label), label)

    def pool_settings(self, item: StoredItem) -> PoolSettings:
        return PoolSettings.model_validate(item.pool)

    def _validate(self, model: type[BaseModel], raw: dict[str, Any], label: str) -> BaseModel:
        known = {info.alias or key for key, info in model.model_fields.items()} | set(model.model_fields)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SettingError(
                label, unknown[0], f"unknown setting; known: {', '.join(sorted(model.model_fields))}"
            )
        resolved = envvars.resolve(raw, label)
        try:
            return model.model_validate(resolved)
        except ValidationError as exc:
            raise _setting_error(label, exc) from None

    def _validate_pool(self, kind: str, pool: dict[str, Any], label: str) -> dict[str, Any]:
        if kind != "connection":
            if pool:
                raise ConfigError(label, "channels have no pool settings")
            return {}
        try:
            PoolSettings.model_validate(pool)
        except ValidationError as exc:
            raise _setting_error(f"{label} pool", exc) from None
        return dict(pool)

    def _seal(self, model: type[BaseModel], settings: dict[str, Any]) -> dict[str, Any]:
        secrets = secret_fields(model)
        sealed: dict[str, Any] = {}
        for key, value in settings.items():
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if key in secrets and value not in (None, ""):
                sealed[key] = {SEALED: self.box.encrypt(str(value))}
            else:
                sealed[key] = value
        return sealed

    def _unseal(self, settings: dict[str, Any], label: str) -> dict[str, Any]:
        return {
            key: self.box.decrypt(value[SEALED], f"{label} setting {key!r}")
            if isinstance(value, dict) and SEALED in value
            else value
            for key, value in settings.items()
        }

    def _view(self, item: StoredItem) -> StoredItem:
        settings = {
            key: MASK if isinstance(value, dict) and SEALED in value else value
            for key, value in item.settings.items()
        }
        return StoredItem(item.kind, item.type, item.name, settings, item.pool, item.updated_at)

    def _check_name(self, kind: str, name: str) -> None:
        if not _NAME.match(name) or name != name.strip():
            raise ConfigError(
                f"{kind} name {name!r}",
                "use 1 to 200 printable characters, no '/' and no leading or trailing spaces",
            )


def _setting_error(label: str, exc: ValidationError) -> SettingError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(settings)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown setting; check the spelling (see --help for the settings)"
    if first["type"] == "missing":
        message = "required; give a value"
    return SettingError(label, field, message)
