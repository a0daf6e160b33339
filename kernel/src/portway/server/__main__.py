"""``python -m portway.server ENV``: run the server in this process until SIGTERM/SIGINT.

uvicorn stops accepting on the signal, waits up to ``[server] drain_s`` for
in-flight requests, then the lifespan drains channels and closes pools; then
the process exits, which releases ``ENV/server.lock`` (held from the start,
see :mod:`portway.serverlock`).
"""

from __future__ import annotations

import os
import sys

from portway.errors import PortwayError


def serve(env_path: str, to_terminal: bool = False) -> int:
    """Run the server of ``env_path``; log to ``ENV/logs/server.log`` unless ``to_terminal``."""

    from portway import environment, logs
    from portway.hotdeploy.trail import trail_path
    from portway.logfiles import LogFile
    from portway.runtime import Runtime
    from portway.server.app import ServerApp
    from portway.server.listen import ReadyServer, uvicorn_config
    from portway.server.readiness import ready_reporter
    from portway.serverlock import ServerLock

    env = environment.load(env_path)
    # Before anything else: a second server of this environment stops here. Held (by the
    # open file) until this process ends, whichever way it ends.
    lock = ServerLock.acquire(env.lock_path)
    env.admin_key()  # refuses a key file others may read, before anything starts
    log = env.settings.log
    file = None if to_terminal else LogFile(env.logs_dir / "server.log", log.max_bytes, log.backups)
    logs.configure(log.level, log.format, file=file)
    runtime = Runtime(env)
    # A file that ends this process at import is named afterwards (by `portway start`).
    runtime.deployer.keep_trail(trail_path(env.cache_dir))
    ready = ready_reporter(lambda: len(runtime.registry.all()))
    server = ReadyServer(uvicorn_config(env, ServerApp(runtime)), ready)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises SIGINT once it has shut down
        pass
    finally:
        lock.release()  # serving is over (uvicorn may end the process first: that releases it too)
    code = 0 if server.started else 1
    _exit_past_abandoned_threads(code)
    return code


def _exit_past_abandoned_threads(code: int) -> None:
    """Exit now if service threads abandoned at shutdown still run: Python would wait for them."""
    import logging
    import threading
    import time

    import structlog

    deadline = time.monotonic() + 0.5  # idle worker threads are ending on their own
    running = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in running:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = [t for t in running if t.is_alive()]
    if not running:
        return
    structlog.get_logger("portway.server").warning("exiting_with_abandoned_threads", threads=len(running))
    logging.shutdown()
    os._exit(code)


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
