"""GET /admin/api/health/ready: not ready during a 2,000-file boot, ready after; 503 while booting."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import httpx
import pytest

from portway import environment
from portway.environment import Environment
from portway.runtime import Runtime
from portway.server.app import ServerApp
from portway.testing import free_port

FILES = 2000
SERVICE = """
from portway import Service


class S{n}(Service):
    name = "boot.s{n}"

    def handle(self):
        self.response.payload = {n}
"""


def _ready(url: str) -> tuple[int | None, dict[str, object] | None]:
    """(status, body) of the probe; (None, None) while nothing accepts the connection."""
    try:
        with urllib.request.urlopen(url + "/admin/api/health/ready", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except (urllib.error.URLError, ConnectionError):
        return None, None


def test_not_ready_while_a_2000_file_boot_runs(tmp_path) -> None:
    env = environment.create(tmp_path / "env", port=free_port())
    for n in range(FILES):
        (env.pickup_dirs[0] / f"s{n:04}.py").write_text(SERVICE.format(n=n))
    process = subprocess.Popen(
        [sys.executable, "-m", "portway.server", str(env.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: list[int | None] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, body = _ready(env.base_url)
            seen.append(status)
            if status == 200:
                break
            assert process.poll() is None, "the server died while booting"
            time.sleep(0.01)
        assert seen[-1] == 200 and body == {"ready": True, "problems": [], "failing_channels": []}
        # Never ready before the boot: the first 200 comes with every service deployed.
        key = env.admin_key()
        request = urllib.request.Request(
            env.base_url + "/admin/api/deploy", headers={"authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            status_now = json.loads(answer.read())
        assert status_now["boot"]["files"] == FILES
        assert status_now["boot"]["services"] == FILES
        assert set(seen[:-1]) <= {None, 503} and seen[:-1], seen  # refused or 503 before
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


@pytest.fixture
def runtime(portway_env: Environment):
    runtime = Runtime(portway_env)
    yield runtime
    runtime.close()


async def _get_ready(runtime: Runtime) -> httpx.Response:
    app = ServerApp(runtime).admin
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portway") as client:
        return await client.get("/admin/api/health/ready")


@pytest.mark.anyio
async def test_503_while_booting_and_when_the_store_fails(runtime: Runtime) -> None:
    runtime.booting = True
    answer = await _get_ready(runtime)
    assert answer.status_code == 503
    assert answer.json()["problems"] == ["the boot deploy is running"]
    runtime.booting = False

    runtime.store.close()  # the store is gone: every read of it fails
    answer = await _get_ready(runtime)
    assert answer.status_code == 503
    [problem] = answer.json()["problems"]
    assert problem.startswith("the config store does not answer")
