"""Property test: whatever connections do, the in-memory queue manager loses and duplicates nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from portway_ibm_mq.memory import MemoryQueueManager
from portway_ibm_mq.message import MQMD
from portway_ibm_mq.reasons import MQError

operations = st.lists(
    st.tuples(
        st.sampled_from(["put", "put_sync", "get", "get_sync", "commit", "backout", "sever", "restart"]),
        st.integers(0, 2),  # which connection
        st.integers(0, 9),  # priority
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_every_committed_message_is_consumed_once_or_still_there(steps):
    qm = MemoryQueueManager("PROP")
    qm.define_queue("Q", default_persistence=True)
    sessions = [qm.connect() for _ in range(3)]
    committed_puts: set[bytes] = set()
    pending_puts: dict[int, set[bytes]] = {0: set(), 1: set(), 2: set()}
    consumed: list[bytes] = []  # outside syncpoint, or committed
    pending_gets: dict[int, list[bytes]] = {0: [], 1: [], 2: []}
    for op, who, priority in steps:
        session = sessions[who]
        try:
            if op in ("put", "put_sync"):
                md = session.put("Q", b"x", MQMD(priority=priority), {}, syncpoint=op == "put_sync")
                (pending_puts[who] if op == "put_sync" else committed_puts).add(md.msg_id)
            elif op in ("get", "get_sync"):
                got = session.get("Q", wait_ms=0, syncpoint=op == "get_sync")
                (pending_gets[who] if op == "get_sync" else consumed).append(got.md.msg_id)
            elif op == "commit":
                session.commit()
                committed_puts |= pending_puts[who]
                consumed += pending_gets[who]
                pending_puts[who], pending_gets[who] = set(), []
            elif op == "backout":
                session.backout()
                pending_puts[who], pending_gets[who] = set(), []
            else:
                qm.sever() if op == "sever" else qm.restart()
                pending_puts = {k: set() for k in pending_puts}
                pending_gets = {k: [] for k in pending_gets}
                sessions = [qm.connect() for _ in range(3)]
        except MQError as exc:
            assert exc.reason == 2033
    for who, session in enumerate(sessions):
        session.backout()
        pending_gets[who] = []
    remaining = [m.md.msg_id for m in qm.messages("Q")]
    assert len(consumed) == len(set(consumed)), "a message was consumed twice"
    assert sorted(consumed + remaining) == sorted(committed_puts), "a message was lost or invented"
    assert qm.committed_gets("Q") == consumed
    order = [(-m.md.priority) for m in qm.messages("Q")]
    assert order == sorted(order), "not in priority order"
