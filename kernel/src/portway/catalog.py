"""Connections and channels as users configure them: validated, secrets sealed.

Every write is validated whole against the plugin's settings model before
anything is stored, so a bad config is rejected and nothing is written.
Only the settings a user gave are stored, in their validated form
(:mod:`portway.setting_values`). Secret fields (``SecretStr``) are
encrypted before they reach the store and shown back only as
``"********"``. ``${VAR}`` references are checked when saved and resolved
each time the settings are used. Text bounds
(:mod:`portway.setting_limits`) and the file rule
(:mod:`portway.file_policy`) are checked when saved and again when used,
so an item stored before a rule existed cannot get round it.

Changing a setting that says who receives the secrets (its audience, see
:mod:`portway.settings_marks`) clears the stored secrets unless the same
update gives them again: a stored password is never sent to a host it was
not typed in for.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

from portway import envvars, setting_values
from portway.encryption import SecretBox
from portway.errors import ConfigError, SettingError
from portway.file_policy import FilePolicy
from portway.plugins import Plugins
from portway.pool import PoolSettings
from portway.sealed import MASK, SEALED, masked
from portway.setting_limits import bad_character, check_settings
from portway.settings_marks import audience_fields, file_fields
from portway.store import Store, StoredItem

Kind = Literal["connection", "channel"]
MAX_NAME = 200


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


@dataclass(frozen=True)
class UpdatedItem(StoredItem):
    """An item as an update left it, and the stored secrets the update cleared (if any)."""

    cleared: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()

    @property
    def notice(self) -> str:
        """What to tell the user when secrets were cleared; empty when none were."""
        if not self.cleared:
            return ""
        them = "it" if len(self.cleared) == 1 else "them"
        return (
            f"changing {_words(self.moved)} cleared the stored {_words(self.cleared)}, so that a secret "
            f"never goes where it was not typed in for; give {them} again if still needed"
        )

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        if self.cleared:
            data["cleared_secrets"] = list(self.cleared)
            data["notice"] = self.notice
        return data


class Catalog:
    """CRUD over connections and channels, validated against plugin models."""

    def __init__(
        self, store: Store, box: SecretBox, plugins: Plugins, *, files: FilePolicy, env_prefix: str
    ) -> None:
        self.store = store
        self.box = box
        self.plugins = plugins
        self.files = files
        self.env_prefix = env_prefix

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
        check_name(kind, name)
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
        *,
        unset: typing.Iterable[str] = (),
    ) -> UpdatedItem:
        """Change some settings; unnamed ones (and secrets left empty) keep their values.

        Settings named in ``unset`` go back to their defaults (pool settings
        as ``pool.<name>``). Changing an audience setting (host, port, user
        by default) clears every stored secret the update does not give
        again; the result says which.
        """
        current = self.store.get(kind, type_name, name)
        model = self.model_for(kind, type_name)
        label = f"{type_name} {kind} {name!r}"
        secrets = secret_fields(model)
        stored = self._unseal(current.settings, label)
        given = {k: v for k, v in settings.items() if not (k in secrets and v in ("", None, MASK))}
        merged = {**stored, **given}
        pool_data = {**current.pool, **(pool or {})}
        for key in unset:
            (pool_data if key.startswith("pool.") else merged).pop(key.removeprefix("pool."), None)
        moved = audience_moved(model, stored, merged)
        held = {k for k in secrets & set(stored) if stored[k] not in (None, "") and k not in given}
        cleared = tuple(sorted(held)) if moved else ()
        for key in cleared:
            del merged[key]
        try:
            item = self._sealed_item(kind, type_name, name, merged, pool_data)
        except SettingError as exc:
            if exc.field in cleared:
                raise SettingError(
                    label, exc.field, f"changing {_words(moved)} clears the stored {exc.field}; give it again"
                ) from None
            raise
        self.store.replace(item)
        view = self.show(kind, type_name, name)
        return UpdatedItem(**vars(view), cleared=cleared, moved=moved)

    def _sealed_item(
        self, kind: Kind, type_name: str, name: str, settings: dict[str, Any], pool: dict[str, Any]
    ) -> StoredItem:
        """Check and validate settings and pool, keep the validated form, seal the secrets: ready to store."""
        model = self.model_for(kind, type_name)
        label = f"{type_name} {kind} {name!r}"
        self._check_texts(model, settings, label)
        values = setting_values.coerced(model, settings, label)
        self._check_files(model, values, label)
        pool_data = self._validate_pool(kind, pool, label)
        return StoredItem(kind, type_name, name, self._seal(model, values), pool_data, 0.0)

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
        """A stored item's settings, ready to use: every rule checked again on the resolved values."""
        model = self.model_for(item.kind, item.type)  # type: ignore[arg-type]
        label = f"{item.type} {item.kind} {item.name!r}"
        raw = self._unseal(item.settings, label)
        setting_values.check_known(model, raw, label)
        resolved = envvars.resolve(raw, label, self.env_prefix)
        check_settings(model, resolved, label, secret_fields(model))
        built = setting_values.validate(model, resolved, label)
        self._check_files(model, {key: getattr(built, key) for key in file_fields(model)}, label)
        return built

    def pool_settings(self, item: StoredItem) -> PoolSettings:
        return PoolSettings.model_validate(item.pool)

    def _check_texts(self, model: type[BaseModel], settings: dict[str, Any], label: str) -> None:
        check_settings(model, settings, label, secret_fields(model))
        for key, value in settings.items():
            envvars.check(value, f"{label}: setting {key!r}", self.env_prefix)

    def _check_files(self, model: type[BaseModel], values: dict[str, Any], label: str) -> None:
        """Refuse a file setting naming a file outside ``[security] file_roots`` or of the environment."""
        for key, mark in file_fields(model).items():
            value = values.get(key)
            if value is None or envvars.has_reference(value):
                continue  # unset, or resolved (and checked) only when used
            for path in mark.paths(value):
                problem = self.files.problem(path, folder=mark.folder)
                if problem is not None:
                    raise SettingError(label, key, problem)

    def _validate_pool(self, kind: str, pool: dict[str, Any], label: str) -> dict[str, Any]:
        if kind != "connection":
            if pool:
                raise ConfigError(label, "channels have no pool settings")
            return {}
        check_settings(PoolSettings, pool, f"{label} pool", frozenset())
        return setting_values.coerced(PoolSettings, pool, f"{label} pool")

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
        return masked(item)


def audience_moved(model: type[BaseModel], before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    """The audience fields whose value differs from ``before`` to ``after`` (unset means the default)."""
    effective = setting_values.effective
    return tuple(
        sorted(k for k in audience_fields(model) if effective(model, k, before) != effective(model, k, after))
    )


def check_name(kind: str, name: str) -> None:
    """Refuse a name that could mislead or break a path: control and bidi characters, ``.``, ``..``."""
    bad = bad_character(name)
    if not 1 <= len(name) <= MAX_NAME:
        problem = f"it is {len(name)} characters long"
    elif name in (".", ".."):
        problem = f"{name!r} means a folder in paths"
    elif name != name.strip():
        problem = "it has leading or trailing spaces"
    elif "/" in name:
        problem = "it holds a '/'"
    elif bad is not None:
        problem = f"it holds {bad}"
    else:
        return
    raise ConfigError(
        f"{kind} name {name[:MAX_NAME]!r}",
        f"{problem}; use 1 to {MAX_NAME} printable characters, no '/', no leading or trailing spaces, "
        "not '.' or '..'",
    )


def _words(names: typing.Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
