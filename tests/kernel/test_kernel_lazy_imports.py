"""A started server has imported only what answering needs: client libraries, the console's
templates and password hashing, and the cipher load when first used.

Run in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from portway import environment
from portway.runtime import Runtime
from portway.testing import free_port

HEAVY = [
    "paramiko",
    "ftplib",
    "pyftpdlib",
    "ibmmq",
    "jinja2",
    "argon2",
    "cryptography",
    "rich",
    "yaml",
    "prometheus_client",
]

PROBE = textwrap.dedent(
    """
    import json, sys, threading, urllib.request
    from portway import environment
    from portway.runtime import Runtime
    from portway.server.app import ServerApp
    from portway.server.listen import uvicorn_config
    import uvicorn

    HEAVY = json.loads(sys.argv[2])
    env = environment.load(sys.argv[1])
    server = uvicorn.Server(uvicorn_config(env, ServerApp(Runtime(env))))
    seen = {}

    def loaded():
        return sorted(m for m in HEAVY if m in sys.modules)

    def get(path, data=None):
        request = urllib.request.Request(env.base_url + path, data=data, method="POST" if data else "GET")
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status

    def probe():
        try:
            while not server.started:
                threading.Event().wait(0.02)
            assert get("/admin/api/health") == 200
            assert get("/hello", b"{}") == 200
            seen["serving"] = loaded()
            assert get("/admin/login") == 200
            seen["console"] = loaded()
        finally:
            server.should_exit = True

    threading.Thread(target=probe, daemon=True).start()
    server.run()
    print(json.dumps(seen))
    """
)


def _env_with_connections(tmp_path: Path) -> environment.Environment:
    """An environment with an SFTP, an FTP and an MQ connection configured (never used)."""
    env = environment.create(tmp_path / "env", port=free_port(), dirs=["services"])
    known_hosts = env.root / "known_hosts"
    known_hosts.write_text("")
    runtime = Runtime(env)
    try:
        catalog = runtime.catalog
        catalog.create(
            "connection",
            "sftp",
            "bank",
            {
                "host": "127.0.0.1",
                "username": "u",
                "password": "pw-123456",
                "known_hosts_file": str(known_hosts),
            },
        )
        catalog.create("connection", "ftp", "files", {"host": "127.0.0.1", "username": "u", "password": "pw"})
        catalog.create("connection", "ibm_mq", "mq", {"backend": "memory:LAZY", "queue_manager": "LAZY"})
        catalog.create("channel", "http", "hello", {"path": "/hello", "service": "portway.ping"})
    finally:
        runtime.close()
    return env


def test_a_serving_server_has_not_imported_client_libraries_or_the_console(tmp_path: Path) -> None:
    env = _env_with_connections(tmp_path)
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(env.root), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["serving"] == [], seen
    # The probe can see an import happen: the console's first page loads its templates.
    assert "jinja2" in seen["console"], seen
