"""One service file must not take the server down: bounded history, size limit, BaseException at import."""

from __future__ import annotations

import gc
import re
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hotdeploy_kit import answer, failure, service_source, wait_until

from portway import environment
from portway.environment import Environment
from portway.errors import NotFoundError
from portway.runtime import Runtime

# A service whose module holds a big object the test can watch through a weak reference.
BIG = """\
from portway import Service


class Ballast:
    pass


BALLAST = Ballast()
BALLAST.data = bytearray({size})


class Big(Service):
    def handle(self):
        self.response.payload = {version!r}
"""


def _ballast(rt: Runtime) -> weakref.ref[object]:
    """A weak reference to the live version's module-level BALLAST."""
    handle = rt.registry.get("big.big").cls.handle
    return weakref.ref(handle.__globals__["BALLAST"])


def _save_versions(rt: Runtime, path: Path, count: int, size: int = 8 << 20) -> list[weakref.ref[object]]:
    refs = []
    for version in range(count):
        path.write_text(BIG.format(size=size, version=f"v{version}"))
        wait_until(lambda v=version: answer(rt, "big.big") == f"v{v}")
        refs.append(_ballast(rt))
    return refs


def test_only_one_previous_version_is_kept_and_old_modules_are_freed(rt: Runtime, pickup: Path) -> None:
    refs = _save_versions(rt, pickup / "big.py", 6)
    gc.collect()
    alive = [ref() is not None for ref in refs]
    # The live version and the one before it (for rollback); the rest released.
    assert alive == [False, False, False, False, True, True]
    assert [d.version for d in rt.registry.history("big.big")][-1] == rt.registry.get("big.big").version
    assert len(rt.registry.history("big.big")) == 2


def test_deleting_a_file_drops_its_history(rt: Runtime, pickup: Path) -> None:
    path = pickup / "big.py"
    refs = _save_versions(rt, path, 3)
    path.unlink()
    wait_until(lambda: "big.big" not in rt.registry)
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]
    assert rt.registry.history("big.big") == []


def test_versions_deployed_at_boot_are_freed_too(env, pickup: Path, boot) -> None:
    # Boot freezes what it loaded (gc.freeze) so collections skip it; a boot version that is
    # replaced must still be released, not kept in the frozen generation forever.
    path = pickup / "big.py"
    path.write_text(BIG.format(size=8 << 20, version="boot"))
    rt = boot()
    booted = _ballast(rt)
    _save_versions(rt, path, 2)
    wait_until(lambda: booted() is None, what="the boot version's module to be collected")


@pytest.fixture
def boot_with(env: Environment) -> Iterator[Callable[[str, str], Runtime]]:
    """``boot_with(key, value)``: a watching runtime with one ``[hotdeploy]`` setting changed."""
    started: list[Runtime] = []

    def start(key: str, value: str) -> Runtime:
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", env.toml_path.read_text())
        assert count == 1, f"{key} is not in the template"
        env.toml_path.write_text(text)
        started.append(Runtime(environment.load(env.root)))
        started[-1].boot()
        return started[-1]

    yield start
    for rt in started:
        rt.close()


def test_history_setting_bounds_rollback(pickup: Path, boot_with) -> None:
    rt = boot_with("history", "2")
    path = pickup / "hello.py"
    for version in ("v1", "v2", "v3", "v4"):
        path.write_text(service_source(repr(version)))
        wait_until(lambda v=version: answer(rt, "hello.hello") == v)
    rt.deployer.rollback("hello.hello")
    rt.deployer.rollback("hello.hello")
    assert answer(rt, "hello.hello") == "v2"
    with pytest.raises(NotFoundError, match="history"):
        rt.deployer.rollback("hello.hello")


def test_default_keeps_one_previous_version(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    for version in ("v1", "v2", "v3"):
        path.write_text(service_source(repr(version)))
        wait_until(lambda v=version: answer(rt, "hello.hello") == v)
    rt.deployer.rollback("hello.hello")
    assert answer(rt, "hello.hello") == "v2"
    with pytest.raises(NotFoundError):
        rt.deployer.rollback("hello.hello")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sys\nsys.exit(3)\n", "SystemExit"),
        ("exit()\n", "SystemExit"),
        ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
        ("class Stop(BaseException):\n    pass\n\nraise Stop('halt')\n", "Stop: halt"),
    ],
)
def test_base_exceptions_at_import_are_reported_as_what_they_are(
    rt: Runtime, pickup: Path, source: str, expected: str
) -> None:
    path = pickup / "hello.py"
    path.write_text(service_source("'good'"))
    wait_until(lambda: answer(rt, "hello.hello") == "good")
    path.write_text(source)
    reported = wait_until(lambda: failure(rt, path))
    assert expected in reported["error"]
    assert "did not finish" not in reported["error"] and "endless loop" not in reported["error"]
    assert reported["line"] is not None
    assert answer(rt, "hello.hello") == "good"
    # The import thread survived: the next save deploys at once.
    path.write_text(service_source("'fixed'"))
    wait_until(lambda: answer(rt, "hello.hello") == "fixed")


def test_system_exit_in_a_helper_names_the_helper(rt: Runtime, pickup: Path) -> None:
    (pickup / "quitter.py").write_text("import sys\n\nsys.exit('bye')\n")
    path = pickup / "uses.py"
    path.write_text("import quitter\n" + service_source("'x'", cls="Uses"))
    reported = wait_until(lambda: failure(rt, path))
    assert "SystemExit" in reported["error"] and "quitter.py" in reported["error"]


def test_file_over_the_size_limit_is_refused_before_compiling(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    path.write_text(service_source("'small'"))
    wait_until(lambda: answer(rt, "hello.hello") == "small")
    compiled = rt.deployer.loader.compiled
    path.write_text(service_source("'big'") + f"\nLITERAL = '{'x' * (1 << 20)}'\n")
    reported = wait_until(lambda: failure(rt, path))
    assert "[hotdeploy] max_file_bytes" in reported["error"] and "1048576" in reported["error"]
    assert reported["path"] == str(path)
    assert rt.deployer.loader.compiled == compiled, "an oversized file must not be compiled"
    assert answer(rt, "hello.hello") == "small"


def test_size_limit_applies_at_boot_and_to_helpers(pickup: Path, boot_with) -> None:
    (pickup / "huge.py").write_text(service_source("'huge'", cls="Huge") + "#" * 3000 + "\n")
    (pickup / "_bulky.py").write_text("DATA = '" + "y" * 3000 + "'\n")
    (pickup / "user.py").write_text("import _bulky\n" + service_source("'user'", cls="User"))
    (pickup / "fine.py").write_text(service_source("'fine'", cls="Fine"))
    rt = boot_with("max_file_bytes", "2000")
    assert answer(rt, "fine.fine") == "fine"
    assert "max_file_bytes = 2000" in failure(rt, pickup / "huge.py")["error"]
    assert "_bulky.py" in failure(rt, pickup / "user.py")["error"]
