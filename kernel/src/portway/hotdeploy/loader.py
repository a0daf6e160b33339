"""Turn one service file into Service classes: read, compile (or take from cache), run as a fresh module.

Each file runs as its own module object with a name unique to its path, so
two ``billing.py`` files in different folders never collide in
``sys.modules``. A service file may ``import helper`` / ``from helper import x``
where ``helper.py`` sits in its folder: the import is answered by this
loader, not by ``sys.path``, with a module object of its own per helper
version, and the loader records which helpers each file used so a change to
a helper redeploys the files that import it.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import sys
import threading
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from portway.errors import DeployError
from portway.hotdeploy.cache import BytecodeCache, digest_of
from portway.hotdeploy.import_errors import as_deploy_error, class_line
from portway.hotdeploy.sources import compile_source, read_source
from portway.hotdeploy.worker import ImportTimeout
from portway.service import DEPLOYED_PREFIX, Service

_real_import = builtins.__import__
# Sibling files never shadow these, so `import json` in a service stays the standard library.
_NEVER_SIBLING = frozenset(sys.stdlib_module_names) | {"portway"}
_NO_HELPERS: frozenset[str] = frozenset()


def module_name_for(path: str, kind: str = "") -> str:
    """``/srv/a/billing.py`` -> ``portway_deployed.billing_<digest of path>``."""
    digest = hashlib.blake2b(f"{kind}{path}".encode(), digest_size=6).hexdigest()
    stem = path.rpartition(os.sep)[2].removesuffix(".py")
    return f"{DEPLOYED_PREFIX}{stem}_{digest}"


class LoadedFile(NamedTuple):
    """A file that ran to the end: its Service classes and the helpers it imported."""

    path: str
    digest: bytes
    version: str
    services: tuple[type[Service], ...]
    helpers: frozenset[str]
    compiled: bool


@dataclass
class _Helper:
    digest: bytes
    module: types.ModuleType
    uses: set[str]  # helper files this helper imported, transitively
    loading: int | None  # ident of the thread running its top level; None once it has finished


class Loader:
    """Loads service files and their sibling helper modules; remembers helper modules per version."""

    def __init__(self, cache: BytecodeCache, max_file_bytes: int = 1 << 20) -> None:
        self.cache = cache
        self.max_file_bytes = max_file_bytes
        self._helpers: dict[str, _Helper] = {}
        self._siblings: dict[tuple[str, str], str | None] = {}
        # One builtins namespace for every deployed module: the standard one, but with an
        # __import__ that knows sibling helper files. Which helpers a module used is kept by
        # module name (a module's name is unique to its file).
        self._builtins = dict(builtins.__dict__)
        self._builtins["__import__"] = self._import
        self._uses: dict[str, set[str]] = {}
        self._names: dict[str, str] = {}  # module name by path: a hash, worth keeping
        # Modules already imported whole, by name, with the fromlists known to be present.
        self._ready: dict[str, tuple[types.ModuleType, set[tuple[str, ...]]]] = {}
        # Re-entrant: a helper may import another helper while the first is loading.
        self._lock = threading.RLock()
        self.compiled = 0

    def new_batch(self) -> None:
        """Forget which sibling files exist; files may have come or gone since the last batch."""
        self._siblings = {}

    def helper_paths(self) -> set[str]:
        return set(self._helpers)

    def forget(self, changed: Sequence[str]) -> None:
        """Drop helper modules built from ``changed`` files, and helpers that used them."""
        if not self._helpers:
            return
        gone = set(changed)
        with self._lock:
            for path, helper in list(self._helpers.items()):
                if path in gone or helper.uses & gone:
                    del self._helpers[path]

    def code_for(self, path: str, source: bytes, digest: bytes) -> tuple[types.CodeType, bool]:
        """Code from the cache when its hash matches, else freshly compiled (and cached)."""
        code = self.cache.get(path, digest)
        if code is not None:
            return code, False
        code = compile_source(path, source)
        self.cache.put(path, digest, code, self._name(path))
        self.compiled += 1
        return code, True

    def load(self, path: str, source: bytes, digest: bytes) -> LoadedFile:
        """Run ``path`` as a fresh module and return its Service classes; raise :class:`DeployError`."""
        code, compiled = self.code_for(path, source, digest)
        return self.run(path, digest, code, compiled)

    def _name(self, path: str) -> str:
        name = self._names.get(path)
        if name is None:
            name = self._names[path] = module_name_for(path)
        return name

    def run(
        self, path: str, digest: bytes, code: types.CodeType, compiled: bool = False, name: str = ""
    ) -> LoadedFile:
        """Run compiled ``code`` of ``path`` as a fresh module and collect its Service classes.

        ``name``: the module name, when known (the cache keeps it); else made from the path.
        """
        # _new_module and _run inlined: this is most of a warm boot's per-file work.
        if not name:
            name = self._name(path)
        uses: set[str] = set()
        module = types.ModuleType(name)
        namespace = module.__dict__
        namespace["__file__"] = path
        namespace["__builtins__"] = self._builtins
        self._uses[name] = uses
        modules = sys.modules
        previous = modules.get(name)
        # In sys.modules while it runs, as importlib does, so dataclasses, pydantic
        # models and pickle in the file can find their module.
        modules[name] = module
        try:
            exec(code, namespace)
        except Exception as exc:
            _restore(name, previous)
            raise as_deploy_error(exc, path) from exc
        except ImportTimeout:  # this thread was given up on: let it end
            _restore(name, previous)
            raise
        except BaseException as exc:  # sys.exit(), KeyboardInterrupt, ...: the file's, reported as such
            _restore(name, previous)
            raise as_deploy_error(exc, path) from None
        found: dict[str, type[Service]] = {}
        base_handle = Service.handle
        for obj in namespace.values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Service)
                and obj.__module__ == name
                and obj.handle is not base_handle  # no handle of its own: a base class, not a service
            ):
                other = found.get(obj.name)
                if other is not None and other is not obj:
                    raise DeployError(
                        path,
                        class_line(obj),
                        f"service name {obj.name!r} is used by both {other.__qualname__} and "
                        f"{obj.__qualname__}; give one of them another `name = ...`",
                    )
                found[obj.name] = obj
        if uses:
            with self._lock:
                version = self.version_of(digest, uses)
            helpers = frozenset(uses)
        else:
            version = digest.hex()[:12]
            helpers = _NO_HELPERS
        # tuple.__new__: the NamedTuple's generated __new__ is a Python call per file.
        return tuple.__new__(LoadedFile, (path, digest, version, tuple(found.values()), helpers, compiled))

    def version_of(self, digest: bytes, uses: set[str]) -> str:
        """The file's version: its own bytes plus the bytes of every helper it imported."""
        if not uses:
            return digest.hex()[:12]
        h = hashlib.blake2b(digest, digest_size=6)
        for path in sorted(uses):
            helper = self._helpers.get(path)
            h.update(path.encode())
            h.update(helper.digest if helper is not None else b"?")
        return h.hexdigest()

    # --- sibling helper modules ---

    def _new_module(self, name: str, path: str, uses: set[str]) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__file__ = path
        module.__builtins__ = self._builtins  # type: ignore[attr-defined]
        self._uses[name] = uses
        return module

    def _import(
        self,
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> types.ModuleType:
        """``__import__`` of deployed modules: a sibling file of the importer is answered here."""
        if level == 0 and globals is not None and "." not in name and name not in _NEVER_SIBLING:
            own = globals.get("__file__")
            uses = self._uses.get(globals.get("__name__"))  # type: ignore[call-overload]
            if isinstance(own, str) and uses is not None:
                sibling = self._sibling(os.path.dirname(own), name)
                if sibling is not None and sibling != own:
                    return self._helper(sibling, uses)
        if level == 0 and "." not in name:
            # The common case, `from portway import Service`: already imported, names present.
            # Answered here because the C import calls back into Python for any fromlist.
            module = sys.modules.get(name)
            if module is not None:
                ready = self._ready.get(name)
                key = tuple(fromlist) if fromlist else ()
                if ready is not None and ready[0] is module and key in ready[1]:
                    return module  # seen whole before, with these names: skip the checks below
                if not getattr(getattr(module, "__spec__", None), "_initializing", False) and all(
                    hasattr(module, attr) for attr in key if attr != "*"
                ):
                    if ready is None or ready[0] is not module:
                        ready = self._ready[name] = (module, set())
                    ready[1].add(key)
                    return module
        return _real_import(name, globals, locals, fromlist, level)

    def _sibling(self, folder: str, name: str) -> str | None:
        key = (folder, name)
        try:
            return self._siblings[key]
        except KeyError:
            pass
        candidate = os.path.join(folder, f"{name}.py")
        found = candidate if os.path.isfile(candidate) else None
        self._siblings[key] = found
        return found

    def _helper(self, path: str, uses: set[str]) -> types.ModuleType:
        # The lock guards the table only: helper code runs outside it, so a helper stuck
        # at import (abandoned after the time limit) cannot block every later deploy.
        with self._lock:
            helper = self._helpers.get(path)
        if helper is None:
            helper = self._load_helper(path)
        elif helper.loading not in (None, threading.get_ident()):
            raise ImportError(f"helper module {path} is still importing in another thread (stuck at import?)")
        uses.add(path)
        uses.update(helper.uses)
        return helper.module

    def _load_helper(self, path: str) -> _Helper:
        try:
            source = read_source(path, limit=self.max_file_bytes)
        except FileNotFoundError:
            raise ModuleNotFoundError(f"helper module {path} is gone") from None
        except DeployError as exc:
            raise ImportError(f"helper module {exc}") from None
        digest = digest_of(source)
        try:
            code, _ = self.code_for(path, source, digest)
        except DeployError as exc:
            raise ImportError(f"helper module {exc}") from None
        helper = _Helper(digest, types.ModuleType("pending"), set(), threading.get_ident())
        helper.module = self._new_module(module_name_for(path, "helper:"), path, helper.uses)
        # Registered before it runs so an import cycle between helpers ends, as in Python.
        with self._lock:
            self._helpers[path] = helper
        try:
            self._run(helper.module, code, path)
        except BaseException as exc:
            with self._lock:
                if self._helpers.get(path) is helper:
                    del self._helpers[path]
            if isinstance(exc, DeployError):
                raise ImportError(f"helper module {exc}") from None
            raise
        helper.loading = None
        return helper

    def _run(self, module: types.ModuleType, code: types.CodeType, path: str) -> None:
        name = module.__name__
        previous = sys.modules.get(name)
        # In sys.modules while it runs, as importlib does, so dataclasses, pydantic
        # models and pickle in the file can find their module.
        sys.modules[name] = module
        try:
            exec(code, module.__dict__)
        except Exception as exc:
            _restore(name, previous)
            raise as_deploy_error(exc, path) from exc
        except BaseException:
            _restore(name, previous)
            raise


def _restore(name: str, previous: types.ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous
