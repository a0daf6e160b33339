"""The ``file`` channel in a runtime booted in this process, on real folders."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pickup_kit import FAST, Recorded, wait_for

from portway.errors import PortwayError
from portway.pickup.source import LocalSource


@pytest.fixture
def runtime(portway_runtime: Any, deploy_service: Any, recorder_source: str) -> Any:
    deploy_service("recorder.py", recorder_source)
    return portway_runtime


def open_channel(runtime: Any, name: str, folder: Path, **settings: Any) -> None:
    runtime.catalog.create(
        "channel", "file", name, {"service": "pickup.record", "folder": str(folder), **FAST, **settings}
    )
    runtime.refresh()


def write_slowly(path: Path, chunks: int = 6, pause_s: float = 0.15, last: bytes = b"") -> None:
    with open(path, "wb") as file:
        for index in range(chunks):
            file.write(f"chunk {index:02d};".encode() * 100)
            file.flush()
            os.fsync(file.fileno())
            time.sleep(pause_s)
        file.write(last)


FULL = len(b"chunk 00;") * 100 * 6


@pytest.mark.parametrize("lock", ["changed", "done_file", "rename"])
def test_a_file_written_slowly_is_delivered_whole_once(
    runtime: Any, inbox: Path, recorded: Recorded, lock: str
) -> None:
    open_channel(runtime, "in", inbox, read_lock=lock, read_lock_check_interval_s=0.4)
    write_slowly(inbox / "slow.txt")
    if lock == "done_file":
        time.sleep(1.0)
        assert recorded.rows() == []  # no done file yet: not taken, however long it sits
        (inbox / "slow.txt.done").write_bytes(b"")
    rows = recorded.wait(1)
    time.sleep(1.0)
    assert [r["size"] for r in recorded.rows()] == [FULL]
    assert rows[0]["meta_size"] == FULL
    wait_for(lambda: (inbox / ".done" / "slow.txt").exists(), what="moved to .done")
    assert sorted(p.name for p in inbox.iterdir()) == [".done"]  # the done file went too


def test_temporary_names_are_never_taken(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    open_channel(runtime, "in", inbox)
    for name in ("a.part", "b~", "c.tmp", "d.portway-part", ".hidden", "ok.txt"):
        (inbox / name).write_text("x")
    recorded.wait(1)
    time.sleep(0.8)
    assert recorded.names() == ["ok.txt"]


@pytest.mark.parametrize(("settings", "left"), [({"delete": True}, []), ({"keep": True}, ["a.txt"])])
def test_delete_and_keep(
    runtime: Any, inbox: Path, recorded: Recorded, settings: dict[str, Any], left: list[str]
) -> None:
    open_channel(runtime, "in", inbox, **settings)
    (inbox / "a.txt").write_text("hello")
    recorded.wait(1)
    wait_for(lambda: sorted(p.name for p in inbox.iterdir()) == left, what=f"folder holds {left}")
    time.sleep(1.0)
    assert len(recorded.rows()) == 1  # kept and done: never delivered again


def test_move_to_a_dated_folder(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    open_channel(runtime, "in", inbox, move_to=".archive/{date:%Y}/{stem}-done{suffix}")
    (inbox / "a.csv").write_text("1,2")
    recorded.wait(1)
    target = inbox / ".archive" / time.strftime("%Y") / "a-done.csv"
    wait_for(target.exists, what=str(target))


def test_a_failing_service_moves_files_to_the_error_folder_and_goes_on(
    runtime: Any, inbox: Path, recorded: Recorded
) -> None:
    open_channel(runtime, "in", inbox)
    (inbox / "1-bad.txt").write_text("FAIL")
    (inbox / "2-good.txt").write_text("fine")
    (inbox / "3-bad.txt").write_text("FAIL again")
    recorded.wait(3)
    wait_for(lambda: (inbox / ".error" / "3-bad.txt").exists(), what="error folder")
    assert (inbox / ".error" / "1-bad.txt").exists()
    assert (inbox / ".done" / "2-good.txt").exists()
    status = runtime.channels.running[("file", "in")][1].status()
    assert status["failed"] == 2 and status["done"] == 1
    assert "told to fail" in status["last_errors"][-1]["error"]


def test_max_attempts_retries_in_place_with_backoff(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    open_channel(runtime, "in", inbox, max_attempts=3, retry_backoff_s=0.2)
    (inbox / "bad.txt").write_text("FAIL")
    recorded.wait(3)
    wait_for(lambda: (inbox / ".error" / "bad.txt").exists(), what="error folder after 3 attempts")
    time.sleep(0.8)
    assert len(recorded.rows()) == 3


def test_failed_and_left_in_place_is_not_retried(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    open_channel(runtime, "in", inbox, move_failed_to="")
    (inbox / "bad.txt").write_text("FAIL")
    recorded.wait(1)
    time.sleep(1.0)
    assert len(recorded.rows()) == 1 and (inbox / "bad.txt").exists()


def test_include_exclude_recursive(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    (inbox / "sub" / "deeper").mkdir(parents=True)
    (inbox / "sub" / "deeper" / "x.csv").write_text("1")
    (inbox / "sub" / "skip.csv").write_text("1")
    (inbox / "top.csv").write_text("1")
    (inbox / "top.txt").write_text("1")
    open_channel(runtime, "in", inbox, include=["*.csv"], exclude=["skip*"], recursive=True, keep=True)
    recorded.wait(2)
    time.sleep(0.8)
    assert sorted(recorded.names()) == ["top.csv", "x.csv"]
    assert sorted(eval(r["relpath"]) for r in recorded.rows()) == ["sub/deeper/x.csv", "top.csv"]


def test_not_recursive_leaves_subfolders_alone(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    (inbox / "sub").mkdir()
    (inbox / "sub" / "x.txt").write_text("1")
    (inbox / "a.txt").write_text("1")
    open_channel(runtime, "in", inbox)
    recorded.wait(1)
    time.sleep(0.6)
    assert recorded.names() == ["a.txt"]


def test_max_files_per_poll_and_sort_by_mtime(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    for index, name in enumerate(["c.txt", "a.txt", "b.txt"]):
        (inbox / name).write_text("x")
        os.utime(inbox / name, (1000 + index, 1000 + index))
    open_channel(runtime, "in", inbox, sort_by="mtime", max_files_per_poll=1)
    recorded.wait(3)
    assert recorded.names() == ["c.txt", "a.txt", "b.txt"]


def test_min_age(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    open_channel(runtime, "in", inbox, min_age_s=1.0, read_lock="none")
    (inbox / "young.txt").write_text("x")
    time.sleep(0.6)
    assert recorded.rows() == []
    recorded.wait(1)


def test_large_files_come_as_a_path(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    open_channel(runtime, "in", inbox, stream_above_bytes=10, read_lock="none")
    (inbox / "big.bin").write_bytes(b"y" * 100)
    (inbox / "small.bin").write_bytes(b"y" * 5)
    rows = {eval(r["name"]): r for r in recorded.wait(2)}
    assert rows["big.bin"]["streamed"] and rows["big.bin"]["size"] == 100
    assert not rows["small.bin"]["streamed"]


def test_restart_with_keep_delivers_nothing_again(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    open_channel(runtime, "in", inbox, keep=True)
    for name in ("a.txt", "b.txt"):
        (inbox / name).write_text(name)
    recorded.wait(2)
    runtime.channels.stop_all(5)
    runtime.refresh(force=True)  # started again, with a fresh engine
    (inbox / "c.txt").write_text("new")
    recorded.wait(3)
    time.sleep(1.0)
    assert sorted(recorded.names()) == ["a.txt", "b.txt", "c.txt"]


def test_odd_names_are_delivered(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    open_channel(runtime, "in", inbox, read_lock="none")
    os.close(os.open(os.path.join(os.fsencode(inbox), b"caf\xe9.txt"), os.O_CREAT | os.O_WRONLY))
    (inbox / "line\nbreak.txt").write_text("x")
    recorded.wait(2)
    wait_for(lambda: sorted(os.listdir(inbox)) == [".done"], what="both moved")
    assert sorted(recorded.names()) == ["caf\udce9.txt", "line\nbreak.txt"]


def test_a_fifo_in_the_folder_is_left_alone_and_hangs_nothing(
    runtime: Any, inbox: Path, recorded: Recorded
) -> None:
    os.mkfifo(inbox / "a-pipe.txt")  # opening it for reading would block until a writer comes
    (inbox / "b-file.txt").write_text("after the pipe")
    open_channel(runtime, "in", inbox, read_lock="none", sort_by="name")
    recorded.wait(1)
    time.sleep(0.5)
    assert recorded.names() == ["b-file.txt"]
    assert sorted(os.listdir(inbox)) == [".done", "a-pipe.txt"]


def test_symlinks_are_left_alone_files_and_folders(
    runtime: Any, inbox: Path, tmp_path: Path, recorded: Recorded
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the service")
    (inbox / "a-link.txt").symlink_to(outside / "secret.txt")
    (inbox / "b-folder").symlink_to(outside, target_is_directory=True)
    (inbox / "c-loop").symlink_to(inbox, target_is_directory=True)
    (inbox / "d-file.txt").write_text("a plain file")
    open_channel(runtime, "in", inbox, read_lock="none", recursive=True, sort_by="name")
    recorded.wait(1)
    time.sleep(0.5)
    assert recorded.names() == ["d-file.txt"]
    assert (outside / "secret.txt").read_text() == "not for the service"
    assert sorted(os.listdir(inbox)) == [".done", "a-link.txt", "b-folder", "c-loop"]
    assert LocalSource().stat(str(inbox / "a-link.txt")) is not None
    with pytest.raises(OSError):  # swapped in after the listing: refused, not followed
        LocalSource().read(str(inbox / "a-link.txt"))


@pytest.mark.parametrize("size", [0, 4096, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024])
def test_a_local_read_returns_the_whole_file(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.bin"
    body = os.urandom(size)
    path.write_bytes(body)
    assert LocalSource().read(str(path)) == body
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert LocalSource().read(str(fifo)) == b""  # no writer: nothing to read, and no hang


def test_a_missing_folder_is_reported_and_retried(runtime: Any, tmp_path: Path, recorded: Recorded) -> None:
    folder = tmp_path / "later"
    open_channel(runtime, "in", folder)
    runner = runtime.channels.running[("file", "in")][1]
    wait_for(lambda: runner.status()["folder_error"] is not None, what="folder error reported")
    assert "later" in runner.status()["folder_error"]
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    recorded.wait(1)
    assert runner.status()["folder_error"] is None


def test_stop_waits_for_the_file_in_flight(runtime: Any, inbox: Path, recorded: Recorded) -> None:
    recorded.slow(1.0)
    open_channel(runtime, "in", inbox, read_lock="none")
    (inbox / "slow.txt").write_text("SLOW")
    runner = runtime.channels.running[("file", "in")][1]
    wait_for(lambda: runner.status()["in_flight"] == 1, what="in flight")
    stopper = threading.Thread(target=runtime.channels.stop_all, args=(10,))
    stopper.start()
    stopper.join(20)
    assert len(recorded.rows()) == 1 and (inbox / ".done" / "slow.txt").exists()


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"delete": True, "keep": True}, "delete"),
        ({"delete": True, "move_to": "done/{name}"}, "move_to"),
        ({"move_to": "{name}.bak"}, "move_to"),
        ({"move_to": "done/{name}", "recursive": True}, "move_to"),
        ({"move_failed_to": "failed/{name}", "recursive": True}, "move_failed_to"),
        ({"move_to": "../{name}"}, "move_to"),
        ({"move_to": "{nom}"}, "move_to"),
        ({"read_lock": "done_file", "done_file_name": "ready"}, "done_file_name"),
        ({"folder": "relative/path"}, "folder"),
    ],
)
def test_contradicting_settings_are_refused_naming_the_field(
    runtime: Any, inbox: Path, settings: dict[str, Any], field: str
) -> None:
    with pytest.raises(PortwayError) as caught:
        runtime.catalog.create(
            "channel", "file", "bad", {"service": "pickup.record", "folder": str(inbox), **settings}
        )
    assert f"setting '{field}'" in str(caught.value)


def test_move_into_a_subfolder_is_fine_when_excluded(runtime: Any, inbox: Path) -> None:
    runtime.catalog.create(
        "channel",
        "file",
        "ok",
        {
            "service": "pickup.record",
            "folder": str(inbox),
            "move_to": "done/{name}",
            "recursive": True,
            "exclude": ["done/*"],
        },
    )


def test_files_wait_for_a_service_that_is_not_deployed(
    portway_runtime: Any, deploy_service: Any, recorder_source: str, inbox: Path, recorded: Recorded
) -> None:
    open_channel(portway_runtime, "in", inbox, read_lock="none")
    (inbox / "early.txt").write_text("x")
    runner = portway_runtime.channels.running[("file", "in")][1]
    wait_for(lambda: runner.status()["last_errors"], what="the missing service reported")
    assert "pickup.record" in runner.status()["last_errors"][-1]["error"]
    time.sleep(0.5)
    assert (inbox / "early.txt").exists() and not (inbox / ".error").exists()  # no attempt counted
    deploy_service("recorder.py", recorder_source)
    recorded.wait(1)
    wait_for(lambda: (inbox / ".done" / "early.txt").exists(), what="delivered once deployed")


def test_a_file_left_in_progress_by_a_dead_server_is_put_back_and_delivered(
    runtime: Any, inbox: Path, recorded: Recorded
) -> None:
    (inbox / "left.txt.portway-taking").write_text("half-way through a killed server")
    open_channel(runtime, "in", inbox, read_lock="rename", read_lock_check_interval_s=0.2)
    recorded.wait(1)
    assert recorded.names() == ["left.txt"]
    wait_for(lambda: (inbox / ".done" / "left.txt").exists(), what="moved to .done")


def test_a_folder_outside_file_roots_or_of_the_environment_is_refused(runtime: Any, tmp_path: Path) -> None:
    # The channel reads, moves and deletes what it finds: a console session must not aim it at /etc.
    for folder, says in (
        ("/etc", "add the folder to [security] file_roots"),
        (str(runtime.env.logs_dir), "log folder"),
        (str(runtime.env.root), "holds this environment's"),  # its keys, settings and database
        ("/etc/ssl/certs", "keys or certificates"),  # a default file root, for reading only
        ("relative/inbox", "absolute path"),
    ):
        with pytest.raises(PortwayError) as caught:
            runtime.catalog.create("channel", "file", "bad", {"service": "pickup.record", "folder": folder})
        assert "setting 'folder'" in str(caught.value) and says in str(caught.value), folder
    assert runtime.catalog.list("channel", "file") == []


def test_a_poll_finishing_after_the_channel_stopped_starts_no_new_watch(inbox: Path) -> None:
    # The channel's last poll may report the folder readable after stop closed the watch; that
    # used to start a fresh watchdog observer (two threads) that nothing would ever stop.
    from types import SimpleNamespace

    from portway.pickup.local import FolderWatch

    pokes: list[int] = []
    channel = SimpleNamespace(
        settings=SimpleNamespace(folder=str(inbox)), name="in", poke=lambda: pokes.append(1)
    )
    before = {t.ident for t in threading.enumerate()}
    watch = FolderWatch(channel, recursive=False)  # type: ignore[arg-type]
    watch(True)
    (inbox / "a.txt").write_text("x")
    wait_for(lambda: bool(pokes), what="a poke from the watch")
    watch.close()
    watch(True)
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == []


def test_a_channel_stopped_mid_group_gives_back_the_files_it_never_started(
    runtime: Any, inbox: Path, recorded: Recorded
) -> None:
    recorded.slow(1.0)
    (inbox / "a0.txt").write_text("SLOW")
    for index in range(1, 6):
        (inbox / f"a{index}.txt").write_text("quick")
    open_channel(runtime, "in", inbox, read_lock="none", sort_by="name")
    wait_for(lambda: recorded.started() == ["a0.txt"], what="the slow first file in its service")
    repository = runtime.idempotent_repository("in")
    assert repository.counts() == {"taken": 6}  # the whole group claimed at once
    runtime.catalog.delete("channel", "file", "in")
    runtime.refresh()  # stops the channel: it finishes a0 (drain), starts nothing more
    assert recorded.names() == ["a0.txt"]
    assert repository.counts() == {"done": 1}  # the five never started have no row: new files again
    assert sorted(p.name for p in inbox.iterdir()) == [
        ".done",
        "a1.txt",
        "a2.txt",
        "a3.txt",
        "a4.txt",
        "a5.txt",
    ]


def test_a_done_file_still_in_place_is_moved_and_not_delivered_again(
    runtime: Any, inbox: Path, recorded: Recorded
) -> None:
    from portway.pickup.scanning import key_of, scan
    from portway.pickup.settings import FileChannelSettings

    (inbox / "old.txt").write_text("handled before its move failed")
    found = scan(LocalSource(), FileChannelSettings(service="pickup.record", folder=str(inbox)))[0]
    repository = runtime.idempotent_repository("in")
    repository.take_new([key_of(found)])
    repository.done_many([key_of(found)])
    open_channel(runtime, "in", inbox, read_lock="none")
    wait_for(lambda: (inbox / ".done" / "old.txt").exists(), what="moved")
    time.sleep(0.5)
    assert recorded.rows() == []
    assert repository.counts() == {"done": 1}


class BrokenBatches(LocalSource):
    """A folder whose group reads always fail, as a connection broken twice would."""

    def read_many(self, paths: list[str]) -> list[bytes | Exception]:
        raise ConnectionError("the link went down twice")


def test_a_failing_group_read_leaves_each_file_to_be_read_at_its_turn(
    runtime: Any, inbox: Path, recorded: Recorded
) -> None:
    from portway.pickup.engine import PickupChannel
    from portway.pickup.settings import FileChannelSettings

    for index in range(3):
        (inbox / f"f{index}.txt").write_text(f"file {index}")
    settings = FileChannelSettings(service="pickup.record", folder=str(inbox), read_lock="none", **FAST)
    channel = PickupChannel("in", settings, runtime, BrokenBatches(), lease_name="file:in").start()
    try:
        recorded.wait(3)
        assert sorted(recorded.names()) == ["f0.txt", "f1.txt", "f2.txt"]
        wait_for(lambda: len(list((inbox / ".done").iterdir())) == 3, what="all moved")
    finally:
        channel.stop(5)


def test_done_marks_of_a_slow_group_are_committed_as_it_goes(
    runtime: Any, inbox: Path, recorded: Recorded
) -> None:
    recorded.slow(0.4)
    for index in range(6):
        (inbox / f"s{index}.txt").write_text("SLOW")
    open_channel(runtime, "in", inbox, read_lock="none", sort_by="name")
    repository = runtime.idempotent_repository("in")
    # Not only once the whole group of six is through (2.4 s): within about half a second.
    wait_for(
        lambda: repository.counts().get("done", 0) >= 2 and len(recorded.names()) < 6,
        what="done marks while the group still runs",
    )
    recorded.wait(6)
    wait_for(lambda: repository.counts() == {"done": 6}, what="all six done")
