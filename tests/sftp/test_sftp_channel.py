"""The chunk-queue channel buffer keeps paramiko's BufferedPipe semantics."""

from __future__ import annotations

import threading
import time

import pytest
from paramiko.buffered_pipe import PipeTimeout

from portway_sftp.channel import ChunkPipe


def test_reads_across_and_within_chunks() -> None:
    pipe = ChunkPipe()
    pipe.feed(b"hello ")
    pipe.feed(b"world")
    assert len(pipe) == 11 and pipe.read_ready()
    assert pipe.read(3) == b"hel"
    assert pipe.read(100) == b"lo "  # at most the rest of one chunk
    assert pipe.read(5) == b"world"
    assert not pipe.read_ready() and len(pipe) == 0


def test_timeout_close_and_empty() -> None:
    pipe = ChunkPipe()
    with pytest.raises(PipeTimeout):
        pipe.read(1, timeout=0.05)
    with pytest.raises(PipeTimeout):
        pipe.read(1, timeout=0.0)
    pipe.feed(b"abc")
    pipe.read(1)
    pipe.feed(b"def")
    assert pipe.empty() == b"bcdef"
    pipe.close()
    assert pipe.read(10) == b""


def test_reader_wakes_when_data_arrives_and_event_follows_state() -> None:
    pipe = ChunkPipe()
    event = threading.Event()
    pipe.set_event(event)
    assert not event.is_set()
    threading.Timer(0.05, lambda: pipe.feed(b"late")).start()
    started = time.monotonic()
    assert pipe.read(10, timeout=5) == b"late"
    assert time.monotonic() - started < 4
    assert not event.is_set()  # drained
    pipe.close()
    assert event.is_set()
