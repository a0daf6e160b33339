"""Plugin discovery (stevedore), per-plugin failure isolation, and the report.

A plugin that fails to import, or whose hook raises, or that declares a
type another plugin declared first, is recorded as failed with its reason
and left out; everything else loads. Built-in plugins go through the same
path as third-party ones.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

import pluggy

from portway import hookspecs
from portway.declarations import AuthFactor, ChannelType, ConnectionType

GROUP = "portway.plugins"
BUILTIN_PLUGINS = ("portway.builtin_plugin",)


Status = Literal["loaded", "failed", "disabled"]


@dataclass(frozen=True)
class PluginStatus:
    """One line of ``portway plugins``."""

    name: str
    status: Status
    reason: str = ""
    module: str = ""
    contributes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"failed: {self.reason}" if self.status == "failed" else self.status


@dataclass
class Plugins:
    """What the installed plugins contribute, and how each one fared."""

    manager: pluggy.PluginManager
    statuses: dict[str, PluginStatus] = field(default_factory=dict)
    connection_types: dict[str, ConnectionType] = field(default_factory=dict)
    channel_types: dict[str, ChannelType] = field(default_factory=dict)
    auth_factors: dict[str, AuthFactor] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def connection_type(self, name: str) -> ConnectionType:
        from portway.errors import NotFoundError

        try:
            return self.connection_types[name]
        except KeyError:
            raise NotFoundError("connection type", name, self.missing_hint("connection", name)) from None

    def channel_type(self, name: str) -> ChannelType:
        from portway.errors import NotFoundError

        try:
            return self.channel_types[name]
        except KeyError:
            raise NotFoundError("channel type", name, self.missing_hint("channel", name)) from None

    def missing_hint(self, kind: Literal["connection", "channel"], name: str) -> str:
        """Why a type is not there, as far as can be told: its plugin disabled or failed, or not installed.

        A disabled plugin is never imported, so its types are unknown; a plugin
        named like the type is taken to be the one that adds it.
        """
        types = self.connection_types if kind == "connection" else self.channel_types
        installed = f"installed types: {', '.join(sorted(types)) or 'none'}; see `portway plugins`"
        status = self.statuses.get(name)
        if status is not None and status.status == "disabled":
            return f"its plugin {name!r} is disabled in portway.toml ([plugins] disabled); {installed}"
        if status is not None and status.status == "failed":
            return f"its plugin {name!r} failed to load ({status.reason}); {installed}"
        off = sorted(n for n, s in self.statuses.items() if s.status == "disabled")
        if off:
            return f"{installed}; disabled plugins, one of which may add it: {', '.join(off)}"
        return installed

    def call_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call a side-effect hook (startup, shutdown, cli) plugin by plugin, isolating failures."""
        for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
            try:
                impl.function(**kwargs)
            except Exception as exc:  # a plugin must not take the host down
                self.fail(impl.plugin_name, _reason(hook_name, exc))

    def fail(self, plugin: str, reason: str) -> None:
        """Mark a plugin failed and withdraw everything it contributed."""
        status = self.statuses.get(plugin)
        self.statuses[plugin] = PluginStatus(plugin, "failed", reason, status.module if status else "")
        tables: dict[str, dict[str, Any]] = {
            "connection": self.connection_types,
            "channel": self.channel_types,
            "auth factor": self.auth_factors,
        }
        for (label, type_name), owner in list(self.owners.items()):
            if owner == plugin:
                tables[label].pop(type_name, None)
                del self.owners[(label, type_name)]
        registered = self.manager.get_plugin(plugin)
        if registered is not None:
            self.manager.unregister(registered)
        _log_failure(plugin, reason)


def load_plugins(disabled: Iterable[str] = ()) -> Plugins:
    """Discover, import and register every plugin; collect their declarations."""
    manager = pluggy.PluginManager("portway")
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager=manager)
    off = set(disabled)
    for module_name in BUILTIN_PLUGINS:
        _register(plugins, module_name.rsplit(".", 1)[-1], importlib.import_module(module_name))
    for name, loader in _entry_points():
        if name in off:
            plugins.statuses[name] = PluginStatus(name, "disabled")
            continue
        try:
            module = loader()
        except Exception as exc:
            plugins.statuses[name] = PluginStatus(name, "failed", _reason("import", exc))
            _log_failure(name, plugins.statuses[name].reason)
            continue
        _register(plugins, name, module)
    _collect(plugins)
    return plugins


def _entry_points() -> list[tuple[str, Callable[[], ModuleType]]]:
    from stevedore import ExtensionManager

    # list_entry_points reads stevedore's cache and imports nothing, so a
    # disabled or broken plugin is never imported before we decide.
    manager: ExtensionManager[Any] = ExtensionManager.__new__(ExtensionManager)
    manager.namespace = GROUP
    entries = sorted(manager.list_entry_points(), key=lambda ep: ep.name)
    return [(ep.name, ep.load) for ep in entries]


def _register(plugins: Plugins, name: str, module: ModuleType) -> None:
    try:
        plugins.manager.register(module, name=name)
    except Exception as exc:
        plugins.statuses[name] = PluginStatus(name, "failed", _reason("register", exc))
        return
    plugins.statuses[name] = PluginStatus(name, "loaded", module=module.__name__)


def _collect(plugins: Plugins) -> None:
    kinds: list[tuple[str, dict[str, Any], str]] = [
        ("portway_connection_types", plugins.connection_types, "connection"),
        ("portway_channel_types", plugins.channel_types, "channel"),
        ("portway_auth_factors", plugins.auth_factors, "auth factor"),
    ]
    owners = plugins.owners
    for hook_name, target, label in kinds:
        for impl in getattr(plugins.manager.hook, hook_name).get_hookimpls():
            plugin = impl.plugin_name
            if plugins.statuses[plugin].status != "loaded":
                continue
            try:
                declared = list(impl.function())
            except Exception as exc:
                plugins.fail(plugin, _reason(hook_name, exc))
                continue
            for item in declared:
                owner = owners.get((label, item.name))
                if owner is not None:
                    plugins.fail(
                        plugin, f"{label} type {item.name!r} is already declared by plugin {owner!r}"
                    )
                    break
                owners[(label, item.name)] = plugin
                target[item.name] = item
                _contribute(plugins, plugin, f"{label}:{item.name}")


def _contribute(plugins: Plugins, plugin: str, what: str) -> None:
    status = plugins.statuses[plugin]
    plugins.statuses[plugin] = PluginStatus(
        status.name, status.status, status.reason, status.module, (*status.contributes, what)
    )


_reported: set[tuple[str, str]] = set()


def _log_failure(plugin: str, reason: str) -> None:
    # A CLI command may load the plugins several times: warn about each failure once per process.
    if (plugin, reason) in _reported:
        return
    _reported.add((plugin, reason))
    import structlog  # imported here: the CLI loads plugins and must start fast

    structlog.get_logger("portway.plugins").warning("plugin_failed", plugin=plugin, reason=reason)


def _reason(stage: str, exc: BaseException) -> str:
    return f"{stage}: {type(exc).__name__}: {exc}"


def installed_names() -> list[str]:
    """The names of every installed plugin's entry point, as installed now (none is imported).

    Read from the distributions' metadata, not stevedore's cache, which a
    long-lived process keeps for as long as ``sys.path`` is the same.
    """
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=GROUP)})


def distribution_of(name: str) -> tuple[str, str]:
    """``(distribution, version)`` of a plugin's entry point; built-ins are the kernel's."""
    for ep in importlib.metadata.entry_points(group=GROUP):
        if ep.name == name and ep.dist is not None:
            return ep.dist.name, ep.dist.version
    return "portway", importlib.metadata.version("portway")


def missing_requirements(distribution: str) -> list[str]:
    """The packages ``distribution`` requires (extras aside) that are not installed.

    A plugin imports its client library on first connect, not at load: this is
    how ``portway plugins`` tells of a missing one before a call fails on it.
    """
    import re

    try:
        required = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    missing = []
    for requirement in required:
        if "extra ==" in requirement.replace('"', "").replace("'", ""):
            continue
        found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if found is None:
            continue
        try:
            importlib.metadata.distribution(found.group(0))
        except importlib.metadata.PackageNotFoundError:
            missing.append(found.group(0))
    return missing
