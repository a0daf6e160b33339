"""Small tools shared by the hot-deploy tests: polling, service sources, environments."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portway import environment
from portway.environment import Environment
from portway.runtime import Runtime

IMPORT_TIMEOUT_S = 1.0


def wait_until(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy (and no exception); fail after the bound."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # not there yet: keep polling, remember why
            last = exc
        else:
            if last:
                return last
        time.sleep(0.01)
    raise AssertionError(f"not reached within {timeout_s}s: {what or check}; last: {last!r}")


def answer(rt: Runtime, name: str, payload: Any = None) -> Any:
    return rt.invoke(name, payload).payload


def failure(rt: Runtime, path: Path) -> dict[str, Any] | None:
    for item in rt.deployer.status()["failures"]:
        if item["path"] == str(path):
            return item
    return None


def service_source(answer_expr: str, cls: str = "Hello", name: str = "", asynchronous: bool = False) -> str:
    named = f'    name = "{name}"\n' if name else ""
    prefix = "async " if asynchronous else ""
    return (
        "from portway import Service\n\n\n"
        f"class {cls}(Service):\n{named}"
        f"    {prefix}def handle(self):\n"
        f"        self.response.payload = {answer_expr}\n"
    )


def make_env(root: Path, dirs: list[str] | None = None) -> Environment:
    env = environment.create(root, dirs=dirs)
    toml = env.toml_path.read_text()
    # A short import limit keeps the endless-loop tests quick.
    toml = toml.replace("[hotdeploy]\n", f"[hotdeploy]\nimport_timeout_s = {IMPORT_TIMEOUT_S}\n")
    env.toml_path.write_text(toml)
    return environment.load(root)
