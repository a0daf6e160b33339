"""What never reaches a log: credentials in headers, secret-looking fields and known secret values.

Three layers, because each misses what another catches:

- by key: header names that carry credentials (``authorization``, ``cookie``,
  ``x-api-key``, ...) and field names that look like a password, secret or
  token are masked wherever they appear in a log event, at any depth;
- by type: a pydantic ``SecretStr`` is masked whatever its key;
- by value: the values of secrets the process holds (the admin API key, the
  ``SecretStr`` settings of connections and channels once resolved) are
  replaced in every rendered log line, tracebacks included.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

MASK = "********"
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
_SECRET_NAME = re.compile(
    r"passw|passphrase|secret|token|api[-_]?key|credential|private[-_]?key|^pass$|^pwd$", re.IGNORECASE
)
# Keys structlog and the stdlib bridge use for their own bookkeeping, never user data.
_SKIPPED = frozenset({"event", "exc_info", "exception", "stack_info", "timestamp", "level", "logger"})
_MAX_DEPTH = 12  # deeper than this is masked whole: a log event is not a data dump
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words everywhere


class _NoSecretStr:
    """Stands in for pydantic's ``SecretStr`` while pydantic is not imported: none can exist yet."""


def _secret_str() -> type:
    pydantic = sys.modules.get("pydantic")
    return pydantic.SecretStr if pydantic is not None else _NoSecretStr


def sensitive(key: str) -> bool:
    """Whether a header or field named ``key`` holds a credential."""
    return key.lower() in CREDENTIAL_HEADERS or _SECRET_NAME.search(key) is not None


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` with credential keys and ``SecretStr`` values masked, at any depth."""
    if isinstance(value, _secret_str()):
        return MASK
    if depth > _MAX_DEPTH and isinstance(value, (dict, list, tuple)):
        return "..."
    if isinstance(value, Mapping):
        return {k: MASK if sensitive(str(k)) else redact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(redact(v, depth + 1) for v in value)
    return value


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as a plain dict, with the values of credential headers masked."""
    return {k: MASK if k.lower() in CREDENTIAL_HEADERS else v for k, v in headers.items()}


def without_credentials(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as a plain dict, without the ones that carry credentials."""
    return {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}


def without_cookies(header: str, names: Iterable[str]) -> str:
    """A ``Cookie`` header without the cookies called ``names``."""
    unwanted = tuple(f"{name}=" for name in names)
    kept = [part for part in header.split(";") if not part.strip().startswith(unwanted)]
    return ";".join(kept).strip()


def redact_event(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask credential keys and ``SecretStr`` values in an event."""
    secret_str = _secret_str()
    for key, value in event.items():
        if key in _SKIPPED or key.startswith("_"):
            continue
        if sensitive(key):
            event[key] = MASK
        elif isinstance(value, (Mapping, list, tuple, secret_str)):
            event[key] = redact(value)
    return event


class KnownSecrets:
    """Secret values this process holds; :meth:`scrub` replaces them in any text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        """Remember ``value`` (ignored when too short to be told apart from ordinary text)."""
        value = value.strip()
        if len(value) < _MIN_SECRET_LENGTH or value in self._values:
            return
        with self._lock:
            self._values.add(value)
            ordered = sorted(self._values, key=len, reverse=True)  # longest first: no partial masks
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def add_model(self, model: BaseModel) -> None:
        """Remember every ``SecretStr`` value of a settings model, nested models included."""
        for value in model.__dict__.values():
            self._add_found(value)

    def _add_found(self, value: Any) -> None:
        from pydantic import BaseModel, SecretStr  # only ever called with a settings model's values

        if isinstance(value, SecretStr):
            self.add(value.get_secret_value())
        elif isinstance(value, BaseModel):
            self.add_model(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._add_found(item)
        elif isinstance(value, dict):
            for item in value.values():
                self._add_found(item)

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)


KNOWN = KnownSecrets()
"""The process's secrets: log lines come from every thread, so there is one set per process."""
