"""Broken files keep the previous version live and are reported with file, line and error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hotdeploy_kit import IMPORT_TIMEOUT_S, answer, failure, service_source, wait_until

from portway.runtime import Runtime


def _live_then_break(rt: Runtime, path: Path, broken: bytes | str) -> dict:
    path.write_text(service_source("'good'"))
    wait_until(lambda: answer(rt, "hello.hello") == "good")
    if isinstance(broken, str):
        broken = broken.encode()
    path.write_bytes(broken)
    reported = wait_until(lambda: failure(rt, path), what=f"failure of {path}")
    assert answer(rt, "hello.hello") == "good", "the previous version must stay live"
    return reported


def test_syntax_error_reports_line(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    reported = _live_then_break(rt, path, service_source("'good'") + "\ndef broken(:\n")
    assert reported["line"] == 8
    assert "SyntaxError" in reported["error"]
    # Fixing the file clears the failure and deploys the fix.
    path.write_text(service_source("'fixed'"))
    wait_until(lambda: answer(rt, "hello.hello") == "fixed")
    assert failure(rt, path) is None


def test_import_error(rt: Runtime, pickup: Path) -> None:
    reported = _live_then_break(rt, pickup / "hello.py", "import no_such_module_here\n")
    assert reported["line"] == 1
    assert "ModuleNotFoundError" in reported["error"] and "no_such_module_here" in reported["error"]


def test_exception_at_import(rt: Runtime, pickup: Path) -> None:
    reported = _live_then_break(rt, pickup / "hello.py", "x = 1\n\nraise RuntimeError('boom at import')\n")
    assert reported["line"] == 3
    assert reported["error"] == "RuntimeError: boom at import"


def test_no_service_class(rt: Runtime, pickup: Path) -> None:
    reported = _live_then_break(rt, pickup / "hello.py", "VALUE = 1\n")
    assert "no Service subclass" in reported["error"]


def test_non_utf8_bytes(rt: Runtime, pickup: Path) -> None:
    source = service_source("'caf\xe9'").encode("latin-1")
    reported = _live_then_break(rt, pickup / "hello.py", source)
    assert "UTF-8" in reported["error"]
    assert reported["line"] == 6


def test_null_bytes(rt: Runtime, pickup: Path) -> None:
    reported = _live_then_break(rt, pickup / "hello.py", b"x = 1\x00\n")
    assert "null bytes" in reported["error"]


def test_symlink_loop(rt: Runtime, pickup: Path) -> None:
    os.symlink(pickup / "loop_b.py", pickup / "loop_a.py")
    os.symlink(pickup / "loop_a.py", pickup / "loop_b.py")
    reported = wait_until(lambda: failure(rt, pickup / "loop_a.py"))
    assert "symlink loop" in reported["error"]
    _still_works(rt, pickup)


def test_symlink_to_a_folder(rt: Runtime, pickup: Path, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    os.symlink(tmp_path / "folder", pickup / "weird.py")
    reported = wait_until(lambda: failure(rt, pickup / "weird.py"))
    assert "directory" in reported["error"]
    _still_works(rt, pickup)


def test_dangling_symlink(rt: Runtime, pickup: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "nowhere.py", pickup / "dangling.py")
    reported = wait_until(lambda: failure(rt, pickup / "dangling.py"))
    assert "missing" in reported["error"]


def test_symlinked_service_file_deploys(rt: Runtime, pickup: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text(service_source("'via link'", cls="Linked"))
    os.symlink(real, pickup / "linked.py")
    wait_until(lambda: answer(rt, "linked.linked") == "via link")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(rt: Runtime, pickup: Path) -> None:
    path = pickup / "secret.py"
    path.write_text(service_source("'x'", cls="Secret"))
    path.chmod(0)
    wait_until(lambda: failure(rt, path))
    assert "permission denied" in failure(rt, path)["error"]


def test_endless_loop_at_import_is_cut_off(rt: Runtime, pickup: Path) -> None:
    path = pickup / "hello.py"
    reported = _live_then_break(rt, path, "while True:\n    pass\n")
    assert "did not finish within" in reported["error"]
    # The watcher goes on: a later save of another file deploys.
    _still_works(rt, pickup)
    # The stuck thread was stopped (a pure-Python loop gets the async exception).
    wait_until(lambda: rt.deployer.status()["abandoned_imports"] == 0)
    # And the looping file, once fixed, deploys.
    path.write_text(service_source("'unstuck'"))
    wait_until(lambda: answer(rt, "hello.hello") == "unstuck")


def test_endless_loop_at_boot_does_not_stop_boot(env, pickup: Path, boot) -> None:
    (pickup / "aaa_loop.py").write_text("while True:\n    pass\n")
    (pickup / "zzz_fine.py").write_text(service_source("'fine'", cls="Fine"))
    rt = boot()
    assert answer(rt, "zzz_fine.fine") == "fine"
    assert "did not finish within" in failure(rt, pickup / "aaa_loop.py")["error"]
    assert rt.deployer.status()["boot"]["failed"] == 1
    assert IMPORT_TIMEOUT_S < 5


def test_sleeping_import_is_reported_and_abandoned(rt: Runtime, pickup: Path) -> None:
    # Blocked in C (time.sleep): the thread cannot be interrupted, only abandoned.
    path = pickup / "sleepy.py"
    path.write_text(f"import time\ntime.sleep({IMPORT_TIMEOUT_S * 3})\n")
    reported = wait_until(lambda: failure(rt, path))
    assert "did not finish within" in reported["error"]
    assert rt.deployer.status()["abandoned_imports"] >= 1
    _still_works(rt, pickup)
    wait_until(lambda: rt.deployer.status()["abandoned_imports"] == 0, timeout_s=15)


def test_stuck_helper_does_not_block_other_deploys(rt: Runtime, pickup: Path) -> None:
    # The helper blocks in C, so its thread cannot be stopped, only abandoned.
    (pickup / "stuck_helper.py").write_text(f"import time\ntime.sleep({IMPORT_TIMEOUT_S * 4})\n")
    (pickup / "uses_stuck.py").write_text(
        "import stuck_helper\n" + service_source("'never'", cls="UsesStuck")
    )
    wait_until(lambda: failure(rt, pickup / "uses_stuck.py"))
    # Another service with another helper deploys meanwhile.
    (pickup / "fine_helper.py").write_text("VALUE = 'fine'\n")
    (pickup / "uses_fine.py").write_text(
        "import fine_helper\n" + service_source("fine_helper.VALUE", cls="UsesFine")
    )
    wait_until(lambda: answer(rt, "uses_fine.uses-fine") == "fine")


def test_same_file_name_in_two_folders(rt: Runtime, pickup: Path) -> None:
    (pickup / "eu").mkdir()
    (pickup / "us").mkdir()
    (pickup / "eu" / "billing.py").write_text(service_source("'eu'", cls="Invoice", name="billing.eu"))
    (pickup / "us" / "billing.py").write_text(service_source("'us'", cls="Invoice", name="billing.us"))
    wait_until(lambda: answer(rt, "billing.eu") == "eu" and answer(rt, "billing.us") == "us")


def test_service_name_defined_twice_names_both_files(rt: Runtime, pickup: Path) -> None:
    (pickup / "eu").mkdir()
    (pickup / "us").mkdir()
    first = pickup / "eu" / "billing.py"
    second = pickup / "us" / "billing.py"
    first.write_text(service_source("'eu'", cls="Invoice"))
    wait_until(lambda: answer(rt, "billing.invoice") == "eu")
    second.write_text(service_source("'us'", cls="Invoice"))
    reported = wait_until(lambda: failure(rt, second))
    assert str(first) in reported["error"] and str(second) in reported["error"]
    assert answer(rt, "billing.invoice") == "eu"
    # Renaming the second service resolves it.
    second.write_text(service_source("'us'", cls="Invoice", name="billing.us-invoice"))
    wait_until(lambda: answer(rt, "billing.us-invoice") == "us")
    assert failure(rt, second) is None


def test_two_classes_one_name_in_one_file(rt: Runtime, pickup: Path) -> None:
    path = pickup / "twice.py"
    path.write_text(
        "from portway import Service\n\n"
        "class A(Service):\n    name = 'same'\n    def handle(self): pass\n\n"
        "class B(Service):\n    name = 'same'\n    def handle(self): pass\n"
    )
    reported = wait_until(lambda: failure(rt, path))
    assert "'same'" in reported["error"] and "A" in reported["error"] and "B" in reported["error"]


def _still_works(rt: Runtime, pickup: Path) -> None:
    (pickup / "canary.py").write_text(service_source("'alive'", cls="Canary"))
    wait_until(lambda: answer(rt, "canary.canary") == "alive")
