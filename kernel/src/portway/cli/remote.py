"""Talking to a running server of an environment: which process it is, and admin API calls."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from portway.errors import PortwayError
from portway.serverlock import holder, pid_alive

if TYPE_CHECKING:
    from portway.environment import Environment

__all__ = ["ServerError", "call", "notify_changed", "pid_alive", "server_pid"]


class ServerError(PortwayError):
    """The admin API answered with an error."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def server_pid(env: Environment) -> int | None:
    """The pid of the environment's running server (the holder of its lock), or None."""
    found = holder(env.lock_path)
    return found.pid if found is not None else None


def call(env: Environment, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
    """Call the admin API; return the decoded JSON, raise ServerError on an error status."""
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        env.base_url + "/admin/api" + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {env.admin_key()}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            message = json.loads(raw).get("error", raw.decode())
        except ValueError:
            message = raw.decode("utf-8", "replace")
        raise ServerError(exc.code, message) from None
    except (urllib.error.URLError, OSError) as exc:
        raise PortwayError(f"cannot reach the server at {env.base_url}: {exc}") from None
    return json.loads(raw) if raw else None


def notify_changed(env: Environment) -> None:
    """Tell a running server to apply config changes now (it also polls each second)."""
    if server_pid(env) is None:
        return
    # On failure the server's own poll picks the change up within a second.
    with contextlib.suppress(PortwayError):
        call(env, "POST", "/reload", {}, timeout=5)
