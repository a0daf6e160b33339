"""Real clusters for tests: N portway server processes on one PostgreSQL store, HAProxy in front."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portway import environment
from portway.cli.env import _start
from portway.environment import Environment
from portway.serverlock import holder
from portway.testing import ServerHandle, allow_files, free_port


def hello(version: str, name: str = "demo.hello") -> str:
    """A service file answering ``{"from": version}``."""
    return (
        "from portway import Service\n\n\n"
        "class Hello(Service):\n"
        f"    name = {name!r}\n\n"
        "    def handle(self) -> None:\n"
        f"        self.response.payload = {{'from': {version!r}}}\n"
    )


def until(check: Callable[[], Any], timeout_s: float = 10.0, every_s: float = 0.02) -> Any:
    """``check()``'s first truthy answer, or the last one when ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every_s)


@dataclass
class Node:
    """One server of the cluster, started with ``portway start`` (a real background process)."""

    env: Environment

    @property
    def handle(self) -> ServerHandle:
        return ServerHandle(self.env)

    def start(self) -> None:
        _start(self.env, wait_s=60)

    def answer(self, service: str = "demo.hello") -> Any:
        status, body = self.handle.request("POST", f"/admin/api/services/{service}/invoke", {})
        return body["payload"] if status == 200 else None

    def pid(self) -> int | None:
        server = holder(self.env.lock_path)
        return server.pid if server is not None else None

    def stop(self) -> None:
        server = holder(self.env.lock_path)
        if server is not None and server.signal(signal.SIGTERM):
            server.wait_exit(60)

    def kill(self) -> None:
        server = holder(self.env.lock_path)
        if server is not None:
            server.signal(signal.SIGKILL)
            server.wait_exit(10)


@dataclass
class Cluster:
    """``nodes`` on one store; :meth:`balance` puts HAProxy round-robin in front of them."""

    pg_url: str
    nodes: list[Node]
    haproxy: subprocess.Popen[bytes] | None = None
    balancer_port: int = 0
    folder: Path = field(default_factory=Path)

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        if self.haproxy is not None:
            self.haproxy.terminate()
            self.haproxy.wait(10)
        for node in self.nodes:
            node.stop()

    def answers(self, service: str = "demo.hello") -> list[Any]:
        return [node.answer(service) for node in self.nodes]

    def balance(self) -> str:
        """Start HAProxy round-robin over the nodes, health-checked on /admin/api/health; its URL."""
        self.balancer_port = free_port()
        servers = "\n".join(
            f"    server s{i} 127.0.0.1:{n.env.settings.server.port} check inter 300ms fall 1 rise 1"
            for i, n in enumerate(self.nodes)
        )
        config = self.folder / "haproxy.cfg"
        config.write_text(
            "global\n    maxconn 2000\n"
            "defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n"
            "    timeout server 30s\n    retries 2\n    option redispatch\n"
            f"frontend web\n    bind 127.0.0.1:{self.balancer_port}\n    default_backend portway\n"
            "backend portway\n    balance roundrobin\n    option httpchk GET /admin/api/health\n"
            f"{servers}\n"
        )
        self.haproxy = subprocess.Popen([haproxy_binary() or "haproxy", "-f", str(config), "-db"])
        url = f"http://127.0.0.1:{self.balancer_port}"
        import urllib.request

        def up() -> bool:
            try:
                with urllib.request.urlopen(url + "/admin/api/health", timeout=2) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        assert until(up, 20), "HAProxy did not come up"
        return url


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)), None
    )


def make_node(folder: Path, name: str, pg_url: str, key_from: Path | None, **hotdeploy: Any) -> Node:
    # The test's folder is in file_roots: a file channel of a cluster test may watch a folder there.
    env = allow_files(environment.create(folder / name, port=free_port()), folder)
    toml = env.toml_path.read_text().replace('url = ""', f'url = "{pg_url}"')
    for key, value in hotdeploy.items():
        toml = toml.replace("[hotdeploy]\n", f"[hotdeploy]\n{key} = {str(value).lower()}\n", 1)
    env.toml_path.write_text(toml)
    if key_from is not None:  # servers sharing a store share its secrets key
        env.secrets_key.write_bytes(key_from.read_bytes())
    return Node(environment.load(env.root))


def make_cluster(folder: Path, pg_url: str, size: int = 3, **hotdeploy: Any) -> Cluster:
    nodes: list[Node] = []
    for index in range(size):
        key = nodes[0].env.secrets_key if nodes else None
        nodes.append(make_node(folder, f"s{index + 1}", pg_url, key, **hotdeploy))
    return Cluster(pg_url, nodes, folder=folder)
