"""Turn one service file into deployed services: compile, run as a fresh module, collect.

Each file runs as its own module object with a name unique to its path, so
two ``billing.py`` files in different folders never collide in
``sys.modules``. A file that fails leaves the registry untouched.
"""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

from portway.errors import DeployError
from portway.registry import Deployed
from portway.service import DEPLOYED_PREFIX, Service


def module_name_for(path: Path) -> str:
    digest = hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()
    return f"{DEPLOYED_PREFIX}{path.stem}_{digest}"


def load_services(path: Path, source: bytes, code: types.CodeType) -> list[Deployed]:
    """Execute compiled ``code`` of ``path`` as a fresh module; return its services."""
    version = hashlib.blake2b(source, digest_size=8).hexdigest()
    module = types.ModuleType(module_name_for(path))
    module.__file__ = str(path)
    folder = str(path.parent)
    added = folder not in sys.path
    if added:  # lets a service import a sibling helper module
        sys.path.insert(0, folder)
    previous = sys.modules.get(module.__name__)
    # Registered while it runs, as importlib does, so dataclasses and
    # pydantic models in the file can find their module.
    sys.modules[module.__name__] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        _restore(module.__name__, previous)
        if not isinstance(exc, Exception):
            raise
        raise DeployError(str(path), _line_of(exc, path), f"{type(exc).__name__}: {exc}") from exc
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, Service)
        and obj is not Service
        and obj.__module__ == module.__name__
    ]
    if not found:
        _restore(module.__name__, previous)
        raise DeployError(
            str(path), None, "no Service subclass found; define `class X(Service)` with handle()"
        )
    return [Deployed.of(cls, str(path), version) for cls in found]


def compile_source(path: Path, source: bytes) -> types.CodeType:
    try:
        return compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise DeployError(str(path), exc.lineno, f"SyntaxError: {exc.msg}") from exc
    except ValueError as exc:  # e.g. null bytes
        raise DeployError(str(path), None, f"cannot compile: {exc}") from exc


def _line_of(exc: BaseException, path: Path) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _restore(name: str, previous: types.ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous
