"""Issue 18 item 4: third-party libraries log from WARNING up unless [log] level is debug."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from portway import logs


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("level", ["info", "warning"])
def test_library_info_lines_stay_out_below_debug(level: str) -> None:
    stream = io.StringIO()
    logs.configure(level, "json", stream=stream)
    logging.getLogger("paramiko.transport").info("[chan 0] sftp session closed.")
    logging.getLogger("paramiko.transport").warning("Oops, unhandled type 3")
    structlog.get_logger("portway.pool").warning("pool_kept")
    logging.getLogger("portway_deployed.billing_1a2b").warning("a service's own stdlib line")
    events = [line["event"] for line in _lines(stream)]
    assert "[chan 0] sftp session closed." not in events
    assert events == ["Oops, unhandled type 3", "pool_kept", "a service's own stdlib line"]


def test_ours_log_at_info_libraries_do_not() -> None:
    stream = io.StringIO()
    logs.configure("info", "json", stream=stream)
    logging.getLogger("paramiko.transport").info("Connected (version 2.0, client OpenSSH_9.6)")
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://127.0.0.1:1")
    structlog.get_logger("portway.server").info("server_ready")
    structlog.get_logger("billing").info("a service's structlog logger, named freely")
    logging.getLogger("portway_sftp.client").info("a plugin's stdlib line")
    logging.getLogger("portway_deployed.hello_9f").info("a service's stdlib line")
    assert [line["event"] for line in _lines(stream)] == [
        "server_ready",
        "a service's structlog logger, named freely",
        "a plugin's stdlib line",
        "a service's stdlib line",
    ]


def test_debug_lets_every_library_speak() -> None:
    stream = io.StringIO()
    logs.configure("debug", "json", stream=stream)
    logging.getLogger("paramiko.transport").info("[chan 0] sftp session closed.")
    logging.getLogger("paramiko.transport").debug("kex algos")
    assert [line["event"] for line in _lines(stream)] == ["[chan 0] sftp session closed.", "kex algos"]


def test_portway_names_are_told_apart_from_lookalikes() -> None:
    assert logs.is_ours("portway") and logs.is_ours("portway.pool") and logs.is_ours("portway_ftp.client")
    assert not logs.is_ours("portwaylib") and not logs.is_ours("paramiko") and not logs.is_ours("")
