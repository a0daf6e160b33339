"""IBM MQ channel throughput on the in-memory queue manager, and the kernel's cost per message.

    .venv/bin/python bench/mq.py [MESSAGES]

The peer is the bare MQ consumer loop every channel is built around: MQGET
under syncpoint, a no-op, MQCMIT, on the same in-memory queue manager. The
channel does the same and invokes a deployed no-op service through the
kernel for each message; the difference per message is the overhead of the
plugin's consumer plus the kernel's dispatch (goal: under 100 µs).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from portway import environment, logs
from portway.runtime import Runtime
from portway_ibm_mq import memory
from portway_ibm_mq.memory import MemoryQueueManager
from portway_ibm_mq.message import MQMD
from portway_ibm_mq.reasons import MQError

NOOP_SERVICE = """
from portway import Service

class Noop(Service):
    name = "bench.noop"

    def handle(self):
        pass
"""


def fill(qm: MemoryQueueManager, queue: str, count: int) -> None:
    """Put ``count`` messages in one unit of work: all visible at once on commit."""
    session = qm.connect()
    md = MQMD(format="MQSTR")
    for i in range(count):
        session.put(queue, b"message %d" % i, md, {}, syncpoint=True)
    session.commit()
    session.close()


def bare_loop(count: int, consumers: int) -> float:
    """Seconds for ``consumers`` threads to get+commit ``count`` messages without the kernel."""
    qm = memory.queue_manager("BENCH-BARE")
    qm.define_queue("IN", max_depth=count + 1)
    fill(qm, "IN", count)

    def consume() -> None:
        session = qm.connect()
        while True:
            try:
                session.get("IN", wait_ms=0, syncpoint=True)
            except MQError:
                break
            session.commit()
        session.close()

    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert len(qm.committed_gets("IN")) == count
    memory.forget("BENCH-BARE")
    return elapsed


def channel_run(count: int, consumers: int) -> float:
    """Seconds for a channel with ``consumers`` threads to process ``count`` messages."""
    name = f"BENCH-CH{consumers}"
    qm = memory.queue_manager(name)
    qm.define_queue("IN", max_depth=count + 1)
    with tempfile.TemporaryDirectory() as folder:
        env = environment.create(Path(folder) / "env")
        (env.pickup_dirs[0] / "noop.py").write_text(NOOP_SERVICE)
        runtime = Runtime(env)
        runtime.catalog.create("connection", "ibm_mq", "QM", {"backend": f"memory:{name}"})
        runtime.catalog.create(
            "channel",
            "ibm_mq",
            "IN",
            {"connection": "QM", "queue": "IN", "service": "bench.noop", "consumers": consumers},
        )
        runtime.boot()
        try:
            time.sleep(0.2)  # consumers connected and waiting
            fill(qm, "IN", count)
            started = time.perf_counter()
            while qm.depth("IN"):
                time.sleep(0.0005)
            elapsed = time.perf_counter() - started
        finally:
            runtime.close()
    assert len(qm.committed_gets("IN")) == count
    memory.forget(name)
    return elapsed


def main() -> None:
    logs.configure("error")
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(f"IBM MQ channel, in-memory queue manager, no-op service, {count:,} messages")
    print(
        f"{'consumers':>9} {'bare msg/s':>12} {'channel msg/s':>14} {'bare µs':>9} {'channel µs':>11}"
        f" {'overhead µs':>12} {'channel/bare':>13}"
    )
    for consumers in (1, 4):
        bare = min(bare_loop(count, consumers) for _ in range(3))
        ours = min(channel_run(count, consumers) for _ in range(3))
        bare_us, ours_us = bare / count * 1e6, ours / count * 1e6
        print(
            f"{consumers:>9} {count / bare:>12,.0f} {count / ours:>14,.0f} {bare_us:>9.1f} {ours_us:>11.1f}"
            f" {ours_us - bare_us:>12.1f} {ours / bare:>12.2f}x"
        )
    print("overhead = per-message time of the channel (plugin consumer + kernel dispatch of a no-op")
    print("service) minus the bare get/commit loop; goal < 100 µs")


if __name__ == "__main__":
    main()
