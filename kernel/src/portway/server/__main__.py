"""``python -m portway.server ENV``: run the server in this process until SIGTERM/SIGINT.

uvicorn stops accepting on the signal, waits up to ``[server] drain_s`` for
in-flight requests, then the lifespan drains channels and closes pools; only
then is the pid file removed and the process exits.
"""

from __future__ import annotations

import contextlib
import os
import sys

from portway.errors import PortwayError


def serve(env_path: str) -> int:
    import uvicorn

    from portway import environment, logs
    from portway.runtime import Runtime
    from portway.server.app import ServerApp

    env = environment.load(env_path)
    logs.configure(env.settings.log.level, env.settings.log.format)
    runtime = Runtime(env)
    app = ServerApp(runtime)
    config = uvicorn.Config(
        app,
        host=env.settings.server.host,
        port=env.settings.server.port,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(env.settings.server.drain_s) or None,
    )
    server = uvicorn.Server(config)
    env.pid_path.write_text(f"{os.getpid()}\n")
    try:
        server.run()
    finally:
        with contextlib.suppress(OSError):
            env.pid_path.unlink()
    return 0 if server.started else 1


def main() -> None:
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m portway.server ENV\n")
        raise SystemExit(2)
    try:
        raise SystemExit(serve(sys.argv[1]))
    except PortwayError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
