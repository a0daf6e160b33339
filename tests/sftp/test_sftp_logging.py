"""Issue 18 item 4: paramiko's own lines stay out of the server log unless the connection asks for them.

The log is configured as the server configures it (``[log] level = info``)
and a real sshd session is opened and closed through the SFTP client.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from portway import logs
from portway_sftp.client import SftpClient
from portway_sftp.settings import SftpSettings


def _session_log(settings: SftpSettings, remote_dir: Path) -> list[dict[str, Any]]:
    stream = io.StringIO()
    logs.configure("info", "json", stream=stream)
    with SftpClient.open(settings) as client:
        client.list(str(remote_dir))
        client.write("x", f"{remote_dir}/f")
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_pooled_session_leaves_no_paramiko_lines(sshd: Any, remote_dir: Path) -> None:
    lines = _session_log(SftpSettings(**sshd.settings()), remote_dir)
    assert not [line for line in lines if str(line.get("logger", "")).startswith("paramiko")], lines
    assert not [line for line in lines if "sftp session closed" in line["event"]], lines
    assert [line["event"] for line in lines] == ["sftp_connected"]


def test_log_level_debug_on_the_connection_shows_its_protocol_once(sshd: Any, remote_dir: Path) -> None:
    lines = _session_log(SftpSettings(**sshd.settings(log_level="debug")), remote_dir)
    protocol = [line for line in lines if line["event"] == "ssh"]
    assert any("sftp session closed" in line["message"] for line in protocol), lines
    assert any(line["event"] == "sftp_request" for line in lines)
    # Forwarded under portway's name only: the raw paramiko record is not logged beside it.
    assert not [line for line in lines if str(line.get("logger", "")).startswith("paramiko")], lines
