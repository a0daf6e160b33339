"""The kernel's errors: one small hierarchy, each error names what it is about."""

from __future__ import annotations


def describe(exc: BaseException) -> str:
    """A one-line reason for a user: the error's message, or its type when it has none."""
    if isinstance(exc, ImportError):  # plugins import their client library on first connect
        package = exc.name or "a package it needs"
        return (
            f"the plugin cannot import {package} ({exc}); install or repair it "
            "(`portway plugins` lists each plugin's missing packages)"
        )
    text = str(exc).strip()
    return text if text else type(exc).__name__


class PortwayError(Exception):
    """Base of every error portway raises on purpose; its text is for a user."""


class ConfigError(PortwayError):
    """Configuration is invalid; ``where`` names the file, field or item."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}")


class NotFoundError(PortwayError):
    """A named thing (service, connection, type, channel) does not exist."""

    def __init__(self, kind: str, name: str, hint: str = "") -> None:
        self.kind = kind
        self.name = name
        text = f"no {kind} named {name!r}"
        super().__init__(f"{text}; {hint}" if hint else text)


class ConflictError(PortwayError):
    """A named thing exists already."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"a {kind} named {name!r} exists already; pick another name or delete it")


class DeployError(PortwayError):
    """A service file could not be deployed; names the file and line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {problem}")


class ConnectionFailed(PortwayError):
    """An outgoing connection could not be opened or pinged."""

    def __init__(self, type_name: str, name: str, reason: str) -> None:
        self.type_name = type_name
        self.name = name
        self.reason = reason
        super().__init__(f"{type_name} connection {name!r}: {reason}")


class SettingError(ConfigError):
    """One setting of a connection or channel is invalid; ``field`` names it."""

    def __init__(self, item: str, field: str, problem: str) -> None:
        self.item = item
        self.field = field
        super().__init__(f"{item}: setting {field!r}", problem)


class ArgumentError(SettingError):
    """One argument of a connection's action is unknown or invalid; ``field`` names it."""

    def __init__(self, item: str, field: str, problem: str) -> None:
        self.item = item
        self.field = field
        ConfigError.__init__(self, f"{item}: argument {field!r}", problem)
