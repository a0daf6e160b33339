"""The packed bytecode cache, boot logging and gc.freeze."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from hotdeploy_kit import answer, service_source, wait_until

from portway.environment import Environment
from portway.hotdeploy.cache import PACK_NAME


def _fill(pickup: Path, count: int) -> None:
    for i in range(count):
        (pickup / f"svc_{i:03d}.py").write_text(service_source(repr(i), cls=f"Svc{i:03d}"))


def test_warm_boot_reads_one_pack_and_compiles_nothing(env: Environment, pickup: Path, boot) -> None:
    _fill(pickup, 20)
    first = boot()
    assert first.deployer.status()["boot"]["compiled"] == 20
    first.close()
    assert (env.cache_dir / PACK_NAME).is_file()
    assert sorted(p.name for p in env.cache_dir.iterdir()) == [PACK_NAME]  # one file for all

    second = boot()
    booted = second.deployer.status()["boot"]
    assert booted["cache_entries_read"] == 20
    assert booted["compiled"] == 0 and booted["from_cache"] == 20
    assert answer(second, "svc_007.svc007") == 7


def test_changed_file_is_recompiled_not_served_stale(env: Environment, pickup: Path, boot) -> None:
    _fill(pickup, 3)
    boot().close()
    path = pickup / "svc_001.py"
    stat = path.stat()
    # Same size, same mtime: only the content hash can tell.
    path.write_text(service_source("'X'", cls="Svc001"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    rt = boot()
    assert answer(rt, "svc_001.svc001") == "X"
    assert rt.deployer.status()["boot"]["compiled"] == 1


def test_stat_signature_skips_reading_but_never_serves_stale(env: Environment, pickup: Path, boot) -> None:
    from portway.hotdeploy.cache import RACY_NS

    _fill(pickup, 3)
    time.sleep(RACY_NS / 1e9 + 0.1)  # older than the racy window, as files usually are
    boot().close()  # hashes the files, records their stat signatures
    quiet = boot()
    assert quiet.deployer.status()["boot"]["not_read"] == 3
    quiet.close()
    path = pickup / "svc_002.py"
    stat = path.stat()
    before = path.read_bytes()
    path.write_text(service_source("9", cls="Svc002"))
    assert len(path.read_bytes()) == len(before)  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime; ctime moves regardless
    rt = boot()
    assert answer(rt, "svc_002.svc002") == 9
    booted = rt.deployer.status()["boot"]
    assert booted["not_read"] == 2 and booted["compiled"] == 1


def test_corrupt_pack_means_a_cold_boot(env: Environment, pickup: Path, boot) -> None:
    _fill(pickup, 2)
    (env.cache_dir / PACK_NAME).write_bytes(b"\x00garbage")
    rt = boot()
    assert rt.deployer.status()["boot"]["compiled"] == 2
    assert answer(rt, "svc_001.svc001") == 1


def test_pack_drops_files_that_are_gone(env: Environment, pickup: Path, boot) -> None:
    _fill(pickup, 3)
    boot().close()
    (pickup / "svc_002.py").unlink()
    boot().close()
    assert boot().deployer.status()["boot"]["cache_entries_read"] == 2


def test_gc_frozen_after_boot(rt) -> None:
    assert gc.get_freeze_count() > 0


SCRIPT = """
import json, sys, time
from portway import environment, logs
from portway.runtime import Runtime

logs.configure("info", "json", stream=sys.stdout)
rt = Runtime(environment.load(sys.argv[1]))
rt.boot()
if len(sys.argv) > 2:
    path = rt.env.pickup_dirs[0] / "late.py"
    path.write_text(sys.argv[2])
    deadline = time.monotonic() + 10
    while "late.late" not in rt.registry and time.monotonic() < deadline:
        time.sleep(0.01)
rt.close()
print(json.dumps({"dont_write_bytecode": sys.dont_write_bytecode}))
"""


def _run(env: Environment, *extra: str) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(env.root), *extra],
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_cache_works_with_dont_write_bytecode_and_logs_one_event(env: Environment, pickup: Path) -> None:
    _fill(pickup, 5)
    lines = _run(env, service_source("'late'", cls="Late"))
    assert lines[-1] == {"dont_write_bytecode": True}
    boots = [e for e in lines if e.get("event") == "boot_deployed"]
    assert len(boots) == 1
    assert boots[0]["files"] == 5 and boots[0]["services"] == 5 and boots[0]["compiled"] == 5
    assert isinstance(boots[0]["ms"], float)
    deploys = [e for e in lines if e.get("event") == "deployed"]
    assert len(deploys) == 1
    assert deploys[0]["deployed"] == 1 and deploys[0]["services"] == 1 and "ms" in deploys[0]

    again = [e for e in _run(env) if e.get("event") == "boot_deployed"]
    assert again[0]["compiled"] == 0 and again[0]["from_cache"] == 6
    assert not list(pickup.rglob("__pycache__"))


def test_saving_a_file_updates_the_pack(env: Environment, pickup: Path, boot) -> None:
    rt = boot()
    (pickup / "late.py").write_text(service_source("'late'", cls="Late"))
    wait_until(lambda: answer(rt, "late.late") == "late")
    rt.close()
    assert boot().deployer.status()["boot"]["compiled"] == 0
