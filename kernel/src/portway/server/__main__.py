"""``python -m portway.server ENV``: run the server in this process until SIGTERM/SIGINT.

uvicorn stops accepting on the signal, waits up to ``[server] drain_s`` for
in-flight requests, then the lifespan drains channels and closes pools; then
the process exits, which releases ``ENV/server.lock`` (held from the start,
see :mod:`portway.serverlock`).
"""

from __future__ import annotations

import sys

from portway.errors import PortwayError


def serve(env_path: str) -> int:
    import uvicorn

    from portway import environment, logs
    from portway.hotdeploy.trail import trail_path
    from portway.runtime import Runtime
    from portway.server.app import ServerApp
    from portway.serverlock import ServerLock

    env = environment.load(env_path)
    # Before anything else: a second server of this environment stops here. Held (by the
    # open file) until this process ends, whichever way it ends.
    lock = ServerLock.acquire(env.lock_path)
    logs.configure(env.settings.log.level, env.settings.log.format)
    runtime = Runtime(env)
    # A file that ends this process at import is named afterwards (by `portway start`).
    runtime.deployer.keep_trail(trail_path(env.cache_dir))
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
    try:
        server.run()
    finally:
        lock.release()  # serving is over (uvicorn may end the process first: that releases it too)
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
