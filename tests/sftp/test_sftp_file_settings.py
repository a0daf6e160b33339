"""Files an SFTP connection names: never the environment's own, and their text never in an error or the log.

Each file here holds a secret-looking line; pings go through the real
server's admin API and through the CLI, and the answers and the server
log are searched for the secret.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from portway.store import Store, StoredItem
from portway.testing import ServerHandle, allow_files

SECRET = "PORTWAY-LEAK-hunter2-Zq81"


@pytest.fixture
def portway_env(tmp_path: Path, sshd: Any) -> Any:
    from portway import environment
    from portway.testing import free_port

    return allow_files(environment.create(tmp_path / "env", port=free_port()), sshd.folder)


def _files(env: Any) -> Path:
    folder = env.root / "ssh"
    folder.mkdir(exist_ok=True)
    return folder


def _create(server: ServerHandle, name: str, settings: dict[str, Any]) -> tuple[int, Any]:
    return server.request(
        "POST", "/admin/api/connections", {"type": "sftp", "name": name, "settings": settings}
    )


def _ping(server: ServerHandle, name: str) -> Any:
    status, body = server.request("POST", f"/admin/api/connections/sftp/{name}/ping")
    assert status == 200, body
    return body


def _cli_ping(env: Any, name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "portway.cli", "conn", "ping", str(env.root), "sftp", name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout
    return done.stdout + done.stderr


def _log(env: Any) -> str:
    path = env.logs_dir / "server.log"
    return path.read_text() if path.exists() else ""


def test_a_bad_ssh_config_line_is_named_by_number_not_shown(
    portway_server: ServerHandle, portway_env: Any, sshd: Any
) -> None:
    config = _files(portway_env) / "config"
    config.write_text(f"Host bank\n  HostName 127.0.0.1\n{SECRET}\n")
    status, body = _create(portway_server, "cfg", {"host": "bank", "ssh_config_file": str(config)})
    assert status == 201, body
    answer = _ping(portway_server, "cfg")
    assert not answer["ok"] and f"{config}" in answer["reason"] and "line 3" in answer["reason"], answer
    assert "hunter2" not in answer["reason"]
    printed = _cli_ping(portway_env, "cfg")
    assert "line 3" in printed and "hunter2" not in printed
    assert "hunter2" not in _log(portway_env)


def test_known_hosts_lines_never_reach_the_log(
    portway_server: ServerHandle, portway_env: Any, sshd: Any
) -> None:
    known = _files(portway_env) / "known_hosts"
    known.write_text(f"{SECRET}\n# {SECRET} in a comment\nbad {SECRET}\n")
    settings = sshd.settings(known_hosts_file=str(known))
    assert _create(portway_server, "kh", settings)[0] == 201
    answer = _ping(portway_server, "kh")
    assert not answer["ok"] and "is not in" in answer["reason"], answer
    assert "hunter2" not in answer["reason"]
    time.sleep(0.5)  # the log is written by the server process
    assert "hunter2" not in _log(portway_env)


def test_a_private_key_file_that_is_no_key_is_not_shown(
    portway_server: ServerHandle, portway_env: Any, sshd: Any
) -> None:
    key = _files(portway_env) / "id_bad"
    key.write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n-----END OPENSSH PRIVATE KEY-----\n")
    assert _create(portway_server, "key", sshd.settings(private_key_file=str(key)))[0] == 201
    answer = _ping(portway_server, "key")
    assert not answer["ok"] and str(key) in answer["reason"], answer
    assert "hunter2" not in answer["reason"]
    assert "hunter2" not in _cli_ping(portway_env, "key")


def test_the_environments_own_files_are_refused_over_rest(
    portway_server: ServerHandle, portway_env: Any
) -> None:
    key_text = portway_env.secrets_key.read_text().strip()
    for field in ("ssh_config_file", "known_hosts_file", "private_key_file"):
        status, body = _create(
            portway_server, "steal", {"host": "127.0.0.1", field: str(portway_env.secrets_key)}
        )
        assert status == 400, body
        assert field in body["error"] and "this environment's key" in body["error"]
        assert key_text not in str(body)
    status, body = _create(
        portway_server,
        "steal",
        {"host": "127.0.0.1", "ssh_options": [f"IdentityFile={portway_env.admin_key_path}"]},
    )
    assert status == 400 and "admin API key" in body["error"], body
    status, body = _create(portway_server, "shadow", {"host": "127.0.0.1", "ssh_config_file": "/etc/shadow"})
    assert status == 400 and "outside the folders" in body["error"], body


def test_one_stored_before_the_rule_is_refused_at_ping(
    portway_server: ServerHandle, portway_env: Any
) -> None:
    store = Store.open(portway_env)
    try:
        settings = {"host": "127.0.0.1", "ssh_config_file": str(portway_env.secrets_key)}
        store.add(StoredItem("connection", "sftp", "old", settings, {}, time.time()))
    finally:
        store.close()
    status, body = portway_server.request("POST", "/admin/api/connections/sftp/old/ping")
    key_text = portway_env.secrets_key.read_text().strip()
    assert "this environment's key" in str(body) and key_text not in str(body), (status, body)
    printed = _cli_ping(portway_env, "old")
    assert "this environment's key" in printed and key_text not in printed
