"""Reading a taken group ahead: which files are read in the batch, and what a failed read leaves."""

from __future__ import annotations

from pathlib import Path

from portway.pickup.handling import Work
from portway.pickup.prefetch import prefetched
from portway.pickup.settings import FileChannelSettings
from portway.pickup.source import Entry, LocalSource


class BatchingSource(LocalSource):
    """A local folder that records each group it was asked to read."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []

    def read_many(self, paths: list[str]) -> list[bytes | Exception]:
        self.groups.append(list(paths))
        return super().read_many(paths)


class OneByOne:
    """A source that reads one file at a time: it offers no ``read_many``."""

    def read(self, path: str) -> bytes:
        return Path(path).read_bytes()


def works(folder: Path, sizes: dict[str, int], action: str = "run") -> list[Work]:
    found = []
    for name, size in sizes.items():
        path = folder / name
        if size >= 0:
            path.write_bytes(b"x" * size)
        entry = Entry(name, str(path), max(size, 0), 0.0)
        found.append(Work(entry, name, f"{name}|key", action, None, None))
    return found


def test_a_group_is_read_in_one_batch_and_a_failed_read_is_left_for_its_turn(tmp_path: Path) -> None:
    source = BatchingSource()
    settings = FileChannelSettings(service="s", folder=str(tmp_path), stream_above_bytes=1000)
    group = works(tmp_path, {"a": 10, "gone": -1, "big": 5000, "b": 0})
    ahead = prefetched(source, group, settings)
    assert source.groups == [[str(tmp_path / "a"), str(tmp_path / "gone"), str(tmp_path / "b")]]
    assert [w.content for w in ahead] == [b"x" * 10, None, None, b""]  # gone: read (and reported) later
    assert [w.key for w in ahead] == [w.key for w in group]


def test_nothing_is_read_ahead_for_the_rename_lock_a_source_without_batches_or_files_not_run(
    tmp_path: Path,
) -> None:
    source = BatchingSource()
    group = works(tmp_path, {"a": 1, "b": 1})
    renaming = FileChannelSettings(service="s", folder=str(tmp_path), read_lock="rename")
    assert prefetched(source, group, renaming) == group
    plain = FileChannelSettings(service="s", folder=str(tmp_path))
    assert prefetched(OneByOne(), group, plain) == group  # type: ignore[arg-type]
    assert prefetched(source, works(tmp_path, {"c": 1, "d": 1}, action="finish"), plain)[0].content is None
    assert source.groups == []
