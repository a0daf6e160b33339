"""Versions: atomic swaps, in-flight calls, rollback, helper modules, redeploys under load."""

from __future__ import annotations

import sys
import threading
import types
from pathlib import Path

import pytest
from hotdeploy_kit import answer, failure, service_source, wait_until

from portway.errors import NotFoundError
from portway.runtime import Runtime


@pytest.fixture
def gate() -> types.ModuleType:
    """A module services can import to block until the test opens it."""
    module = types.ModuleType("hotdeploy_test_gate")
    module.entered = threading.Event()  # type: ignore[attr-defined]
    module.release = threading.Event()  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    module.release.set()  # type: ignore[attr-defined]
    del sys.modules[module.__name__]


SLOW = """\
from portway import Service
import hotdeploy_test_gate as gate

VERSION = {version!r}


class Slow(Service):
    def handle(self):
        if self.request.payload == "wait":
            gate.entered.set()
            gate.release.wait(30)
        self.response.payload = VERSION
"""


def test_in_flight_call_finishes_on_its_version(rt: Runtime, pickup: Path, gate) -> None:
    path = pickup / "slow.py"
    path.write_text(SLOW.format(version="v1"))
    wait_until(lambda: answer(rt, "slow.slow") == "v1")
    result: list[object] = []
    caller = threading.Thread(target=lambda: result.append(answer(rt, "slow.slow", "wait")))
    caller.start()
    assert gate.entered.wait(10)
    path.write_text(SLOW.format(version="v2"))
    wait_until(lambda: answer(rt, "slow.slow") == "v2")  # new calls see v2 ...
    gate.release.set()
    caller.join(10)
    assert result == ["v1"]  # ... the call that started on v1 ends on v1


def test_rollback_and_list(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    path.write_text(service_source("'v1'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v1")
    v1 = rt.registry.get("hello.hello").version
    path.write_text(service_source("'v2'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v2")
    listed = {s["name"]: s for s in rt.deployer.status()["services"]}["hello.hello"]
    assert listed["source"] == str(path)
    assert listed["version"] != v1 and len(listed["version"]) == 12
    assert listed["deployed_at"].startswith("20") and listed["rolled_back"] is False

    rt.deployer.rollback("hello.hello")
    assert answer(rt, "hello.hello") == "v1"
    listed = {s["name"]: s for s in rt.deployer.status()["services"]}["hello.hello"]
    assert listed["version"] == v1 and listed["rolled_back"] is True
    with pytest.raises(NotFoundError):
        rt.deployer.rollback("hello.hello")  # nothing older than v1
    # The next save deploys the file again, even with the same bytes.
    path.write_text(service_source("'v2'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v2")
    path.write_text(service_source("'v3'"))
    wait_until(lambda: answer(rt, "hello.hello") == "v3")


def test_async_service(rt: Runtime, pickup: Path) -> None:
    (pickup / "aio.py").write_text(service_source("'async ok'", cls="Aio", asynchronous=True))
    wait_until(lambda: answer(rt, "aio.aio") == "async ok")
    assert rt.registry.get("aio.aio").is_async


HELLO_WITH_HELPER = """\
from portway import Service
from greeting import greet
import greeting


class Hello(Service):
    def handle(self):
        self.response.payload = greet(self.request.payload) + greeting.PUNCTUATION
"""


def test_helper_module_change_redeploys_its_users(rt: Runtime, pickup: Path) -> None:
    (pickup / "greeting.py").write_text("PUNCTUATION = '!'\n\ndef greet(name):\n    return f'Hello {name}'\n")
    (pickup / "hello.py").write_text(HELLO_WITH_HELPER)
    wait_until(lambda: answer(rt, "hello.hello", "Ada") == "Hello Ada!")
    assert rt.deployer.status()["helpers"] == [
        {"path": str(pickup / "greeting.py"), "used_by": [str(pickup / "hello.py")]}
    ]
    assert rt.deployer.status()["failures"] == []  # a helper without services is not an error
    (pickup / "greeting.py").write_text("PUNCTUATION = '?'\n\ndef greet(name):\n    return f'Hi {name}'\n")
    wait_until(lambda: answer(rt, "hello.hello", "Ada") == "Hi Ada?")


def test_broken_helper_keeps_users_live_and_fix_mends_them(rt: Runtime, pickup: Path) -> None:
    (pickup / "greeting.py").write_text("PUNCTUATION = '!'\n\ndef greet(name):\n    return name\n")
    (pickup / "hello.py").write_text(HELLO_WITH_HELPER)
    wait_until(lambda: answer(rt, "hello.hello", "Ada") == "Ada!")
    (pickup / "greeting.py").write_text("PUNCTUATION = '!'\nraise ValueError('bad helper')\n")
    reported = wait_until(lambda: failure(rt, pickup / "hello.py"))
    assert "bad helper" in reported["error"] and "greeting.py" in reported["error"]
    assert answer(rt, "hello.hello", "Ada") == "Ada!"
    (pickup / "greeting.py").write_text("PUNCTUATION = '.'\n\ndef greet(name):\n    return name\n")
    wait_until(lambda: answer(rt, "hello.hello", "Ada") == "Ada.")
    assert rt.deployer.status()["failures"] == []


def test_each_folder_gets_its_own_helper(rt: Runtime, pickup: Path) -> None:
    for region in ("eu", "us"):
        folder = pickup / region
        folder.mkdir()
        (folder / "config.py").write_text(f"REGION = {region!r}\n")
        (folder / "region.py").write_text(
            "from portway import Service\nimport config\n\n"
            f"class Region(Service):\n    name = 'region.{region}'\n"
            "    def handle(self):\n        self.response.payload = config.REGION\n"
        )
    wait_until(lambda: answer(rt, "region.eu") == "eu" and answer(rt, "region.us") == "us")


def test_helper_gets_a_fresh_module_each_version(rt: Runtime, pickup: Path) -> None:
    (pickup / "counter.py").write_text("CALLS = []\n")
    (pickup / "count.py").write_text(
        "from portway import Service\nimport counter\n\n"
        "class Count(Service):\n    def handle(self):\n"
        "        counter.CALLS.append(1)\n        self.response.payload = len(counter.CALLS)\n"
    )
    wait_until(lambda: answer(rt, "count.count") == 1)
    assert answer(rt, "count.count") == 2
    (pickup / "counter.py").write_text("CALLS = [0]\n")
    wait_until(lambda: answer(rt, "count.count") == 2)  # new helper module: [0] + this call


def test_underscore_helper_alone_is_not_an_error(rt: Runtime, pickup: Path) -> None:
    (pickup / "_shared.py").write_text("X = 1\n")
    (pickup / "canary.py").write_text(service_source("'ok'", cls="Canary"))
    wait_until(lambda: answer(rt, "canary.canary") == "ok")
    assert rt.deployer.status()["failures"] == []


def test_stdlib_names_are_not_taken_for_siblings(rt: Runtime, pickup: Path) -> None:
    (pickup / "json.py").write_text(service_source("'i am a service called json'", cls="Json"))
    (pickup / "uses_json.py").write_text(
        "from portway import Service\nimport json\n\n"
        "class UsesJson(Service):\n    def handle(self):\n"
        "        self.response.payload = json.dumps([1])\n"
    )
    wait_until(lambda: answer(rt, "uses_json.uses-json") == "[1]")


def test_hundred_redeploys_under_load_zero_failed_calls(rt: Runtime, pickup: Path) -> None:
    path = pickup / "busy.py"
    path.write_text(service_source("0", cls="Busy"))
    wait_until(lambda: answer(rt, "busy.busy") == 0)
    stop = threading.Event()
    calls = {"ok": 0}
    errors: list[BaseException] = []

    def load() -> None:
        while not stop.is_set():
            try:
                rt.invoke("busy.busy")
                calls["ok"] += 1
            except BaseException as exc:  # every failure counts, whatever it is
                errors.append(exc)

    caller = threading.Thread(target=load)
    caller.start()
    try:
        for version in range(1, 101):
            if version % 2:
                path.write_text(service_source(str(version), cls="Busy"))
            else:  # every other save is an atomic rename
                tmp = pickup / ".busy.py.tmp"
                tmp.write_text(service_source(str(version), cls="Busy"))
                tmp.replace(path)
            wait_until(lambda v=version: answer(rt, "busy.busy") == v)
    finally:
        stop.set()
        caller.join(10)
    assert errors == []
    assert calls["ok"] > 100
