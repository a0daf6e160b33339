"""IBM MQ channel cost per message on both backends, and what reading an MQRFH2 costs.

    .venv/bin/python bench/mq.py [--messages N] [--ibmmq-messages N] [--rounds N] [--parse N]

Peer: the bare MQ consumer loop every channel is built around, MQGET under
syncpoint, a no-op, MQCMIT, over the same backend and queue manager. The
channel does the same and invokes a deployed no-op service through the
kernel for each message; the difference per message is the overhead of the
plugin's consumer plus the kernel's dispatch (goal: under 100 µs).

Backends: ``memory`` (the in-memory queue manager directly) and ``ibmmq``
(IBM's ``ibmmq`` Python layer, packing and unpacking every MQMD/MQGMO, over
the test suite's stand-in for its C extension, ``tests/ibm_mq/ibmmqc_standin``,
on the same in-memory queue manager). The ibmmq figures include IBM's layer
and the stand-in, not a network or a queue manager: they bound the Python
cost, not what a real queue manager adds.

RFH2: reading a typical JMS message's ~300-byte MQRFH2 (mcd, jms and usr
folders) into JMS headers and typed properties (goal < 20 µs per message),
beside IBM's own ``ibmmq.RFH2.unpack`` of the same bytes, which only splits
the folders out and parses none of their properties.

Rounds alternate peer and channel; medians are printed, with process CPU
time per message (all threads), which a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ibm_mq"))

import ibmmqc_standin

from portway import environment, logs
from portway.runtime import Runtime
from portway_ibm_mq import memory, rfh2
from portway_ibm_mq.backend import open_session
from portway_ibm_mq.memory import MemoryQueueManager
from portway_ibm_mq.message import MQMD, Message
from portway_ibm_mq.reasons import MQError
from portway_ibm_mq.received import receive
from portway_ibm_mq.settings import MQConnectionSettings

NOOP_SERVICE = """
from portway import Service

class Noop(Service):
    name = "bench.noop"

    def handle(self):
        pass
"""

JMS_FOLDERS = [
    "<mcd><Msd>jms_text</Msd><Type>order.created</Type></mcd>",
    "<jms><Dst>queue:///DEV.QUEUE.1</Dst><Rto>queue:///DEV.REPLIES</Rto><Tms>1700000000123</Tms>"
    "<Cid>order-42</Cid><Dlv>2</Dlv></jms>",
    "<usr><tenant>acme</tenant><count dt='i4'>3</count><vip dt='boolean'>1</vip><score dt='r8'>4.5</score>"
    "<region>eu-central</region></usr>",
]


def settings_for(backend: str, qm: MemoryQueueManager) -> dict[str, Any]:
    if backend == "memory":
        return {"backend": f"memory:{qm.name}", "queue_manager": qm.name}
    address = ibmmqc_standin.address_for(qm.name)
    ibmmqc_standin.listen(address, qm)
    return {"backend": "ibmmq", "queue_manager": qm.name, "conn_name": address}


def fill(qm: MemoryQueueManager, queue: str, count: int) -> None:
    """Put ``count`` messages in one unit of work: all visible at once on commit."""
    session = qm.connect()
    md = MQMD(format="MQSTR")
    for i in range(count):
        session.put(queue, b"message %d" % i, md, {}, syncpoint=True)
    session.commit()
    session.close()


def timed(work: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of ``work``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_loop(backend: str, count: int, consumers: int) -> tuple[float, float]:
    """Seconds for ``consumers`` threads to get+commit ``count`` messages without the kernel."""
    qm = memory.queue_manager(f"BARE-{backend}-{consumers}")
    qm.define_queue("IN", max_depth=count + 1)
    settings = MQConnectionSettings.model_validate(settings_for(backend, qm))
    sessions = [open_session(settings) for _ in range(consumers)]
    fill(qm, "IN", count)

    def consume(session: Any) -> None:
        while True:
            try:
                session.get("IN", wait_ms=0, syncpoint=True)
            except MQError:
                break
            session.commit()

    def run() -> None:
        threads = [threading.Thread(target=consume, args=(s,)) for s in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    result = timed(run)
    assert len(qm.committed_gets("IN")) == count
    for session in sessions:
        session.close()
    memory.forget(qm.name)
    return result


def channel_run(backend: str, count: int, consumers: int) -> tuple[float, float]:
    """Seconds for a channel with ``consumers`` threads to process ``count`` messages."""
    qm = memory.queue_manager(f"CH-{backend}-{consumers}")
    qm.define_queue("IN", max_depth=count + 1)
    with tempfile.TemporaryDirectory() as folder:
        env = environment.create(Path(folder) / "env")
        (env.pickup_dirs[0] / "noop.py").write_text(NOOP_SERVICE)
        runtime = Runtime(env)
        runtime.catalog.create("connection", "ibm_mq", "QM", settings_for(backend, qm))
        channel = {"connection": "QM", "queue": "IN", "service": "bench.noop", "consumers": consumers}
        runtime.catalog.create("channel", "ibm_mq", "IN", channel)
        runtime.boot()
        try:
            time.sleep(0.3)  # consumers connected and waiting
            fill(qm, "IN", count)

            def drain() -> None:
                while qm.depth("IN"):
                    time.sleep(0.0005)

            result = timed(drain)
        finally:
            runtime.close()
    assert len(qm.committed_gets("IN")) == count
    memory.forget(qm.name)
    return result


def channel_table(args: argparse.Namespace) -> None:
    print(f"IBM MQ channel, no-op service; medians of {args.rounds} paired rounds")
    print(
        f"{'backend':>8} {'consumers':>9} {'messages':>9} {'bare µs':>8} {'channel µs':>11}"
        f" {'overhead µs':>12} {'channel/bare':>13} {'bare CPU µs':>12} {'channel CPU µs':>15}"
    )
    for backend, count in (("memory", args.messages), ("ibmmq", args.ibmmq_messages)):
        for consumers in (1, 4):
            bare, ours = [], []
            for _ in range(args.rounds):
                bare.append(bare_loop(backend, count, consumers))
                ours.append(channel_run(backend, count, consumers))
            per = [
                statistics.median(x[i] for x in runs) / count * 1e6 for runs in (bare, ours) for i in (0, 1)
            ]
            bare_us, bare_cpu, ours_us, ours_cpu = per
            print(
                f"{backend:>8} {consumers:>9} {count:>9,} {bare_us:>8.1f} {ours_us:>11.1f}"
                f" {ours_us - bare_us:>12.1f} {ours_us / bare_us:>12.2f}x {bare_cpu:>12.1f} {ours_cpu:>15.1f}"
            )
    print("overhead = per-message wall time of the channel (plugin consumer + kernel dispatch of a")
    print("no-op service) minus the bare get/commit loop on the same backend; goal < 100 µs")


def parse_table(args: argparse.Namespace, ibmmq: Any) -> None:
    body = rfh2.wrap(JMS_FOLDERS, b'{"order":42}', format="MQSTR", coded_char_set_id=1208)
    header = len(body) - len(b'{"order":42}')
    message = Message(body, MQMD(format=rfh2.FMT_RF_HEADER_2, msg_id=b"A" * 24), {})
    got = receive(message)
    assert got.jms is not None and got.properties["count"] == 3 and not got.problem

    def ibm() -> None:
        ibmmq.RFH2().unpack(body, 546)

    rounds = []
    for _ in range(args.rounds):
        rounds.append(
            (
                timeit.timeit(lambda: receive(message), number=args.parse) / args.parse * 1e6,
                timeit.timeit(lambda: rfh2.unwrap(body, "MQHRF2", 546, 1208), number=args.parse)
                / args.parse
                * 1e6,
                timeit.timeit(ibm, number=args.parse) / args.parse * 1e6,
            )
        )
    ours, unwrap, peer = (statistics.median(r[i] for r in rounds) for i in range(3))
    print(
        f"\nMQRFH2 of a JMS message, {header} bytes (mcd, jms, usr), {args.parse:,} reads, median of rounds"
    )
    print(f"  portway receive (headers + JMS headers + typed properties): {ours:6.1f} µs   goal < 20 µs")
    print(f"  portway rfh2.unwrap (headers and folders only):             {unwrap:6.1f} µs")
    print(
        f"  IBM's ibmmq.RFH2().unpack (folders split, not parsed):      {peer:6.1f} µs"
        f"   ours/IBM's {ours / peer:.2f}x"
    )


def calibration() -> float:
    """µs for ``sum(range(100))`` now: a yardstick of how fast (or busy) this machine is."""
    return min(timeit.repeat("sum(range(100))", number=20_000, repeat=5)) / 20_000 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000, help="per run on the memory backend")
    parser.add_argument("--ibmmq-messages", type=int, default=5_000, help="per run on the ibmmq backend")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parse", type=int, default=20_000, help="MQRFH2 reads to time")
    args = parser.parse_args()
    logs.configure("error")
    ibmmq = ibmmqc_standin.install()
    print(f"calibration: sum(range(100)) takes {calibration():.2f} µs here, to compare runs and machines")
    channel_table(args)
    parse_table(args, ibmmq)


if __name__ == "__main__":
    main()
