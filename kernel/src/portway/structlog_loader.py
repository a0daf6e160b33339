"""structlog's first import, watched: without rich, and with a callback once it has loaded.

- structlog imports ``rich`` whenever it is installed (portway's CLI needs rich
  for its tables), only to offer rich tracebacks, which portway never uses:
  they print local variables, which held request headers, cookies and
  passwords. Hiding rich while structlog's own modules load saves every
  server start a tenth of a second or so, and keeps those tracebacks out of
  reach. rich imports normally afterwards.
- The CLI configures logging only when something imports structlog (see
  :func:`when_imported`), so a command that never logs never pays for it.

Installed by ``portway/__init__``; a no-op when structlog is imported already.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

_callbacks: list[Callable[[], None]] = []


class _Loader:
    """structlog's own loader, run while ``import rich`` raises ImportError; then the callbacks."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._real.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        hide = "rich" not in sys.modules
        if hide:
            sys.modules["rich"] = None  # type: ignore[assignment]
        try:
            self._real.exec_module(module)
        finally:
            if hide:
                del sys.modules["rich"]
        while _callbacks:
            _callbacks.pop(0)()


class _Finder:
    """Finds structlog once, wrapping its loader; then steps out of ``sys.meta_path``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "structlog":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)  # type: ignore[assignment]
        return spec


def install() -> None:
    """Watch structlog's first import (nothing to do when it, or rich, is imported already)."""
    if "structlog" in sys.modules or "rich" in sys.modules:
        return
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


def when_imported(callback: Callable[[], None]) -> None:
    """Call ``callback`` once structlog is imported: now if it is, else right after its import."""
    if "structlog" in sys.modules or not any(isinstance(f, _Finder) for f in sys.meta_path):
        callback()
        return
    _callbacks.append(callback)
