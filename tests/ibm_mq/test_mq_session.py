"""MQ's semantics through a session, on both backends: the in-memory queue manager directly,
and the same queue manager through IBM's ``ibmmq`` layer and the stand-in for its C extension."""

from __future__ import annotations

import threading
import time

import pytest

from portway_ibm_mq.message import MQMD, NOT_PERSISTENT, PERSISTENT
from portway_ibm_mq.reasons import MQError


def put(session, queue, body, **md):
    return session.put(queue, body, MQMD(**md), {}, syncpoint=False)


def get(session, queue, **options):
    options.setdefault("wait_ms", 0)
    options.setdefault("syncpoint", False)
    return session.get(queue, **options)


def reason_of(call) -> int:
    with pytest.raises(MQError) as caught:
        call()
    return caught.value.reason


def test_priority_first_then_fifo(connect):
    s = connect()
    for body, priority in [(b"a", 1), (b"b", 5), (b"c", 1), (b"d", 9), (b"e", 5)]:
        put(s, "Q", body, priority=priority)
    assert [get(s, "Q").body for _ in range(5)] == [b"d", b"b", b"e", b"a", b"c"]
    assert reason_of(lambda: get(s, "Q")) == 2033


def test_get_under_syncpoint_is_invisible_until_commit_and_back_in_place_on_backout(connect):
    a, b = connect(), connect()
    first = put(a, "Q", b"1")
    put(a, "Q", b"2")
    got = get(a, "Q", syncpoint=True)
    assert got.body == b"1"
    assert get(b, "Q", syncpoint=True).body == b"2"  # another connection cannot see "1"
    b.backout()
    a.backout()
    again = get(b, "Q")
    assert (again.body, again.md.msg_id, again.md.backout_count) == (b"1", first.msg_id, 1)
    assert get(b, "Q").md.backout_count == 1


def test_put_under_syncpoint_visible_only_after_commit(qm, connect):
    a, b = connect(), connect()
    a.put("Q", b"x", MQMD(), {}, syncpoint=True)
    assert reason_of(lambda: get(b, "Q")) == 2033
    assert qm.depth("Q") == 1  # CURDEPTH counts uncommitted puts, like MQ
    a.commit()
    assert get(b, "Q").body == b"x"
    a.put("Q", b"y", MQMD(), {}, syncpoint=True)
    a.backout()
    assert qm.depth("Q") == 0


def test_waiting_get_is_woken_by_a_put(connect):
    consumer, producer = connect(), connect()
    threading.Timer(0.05, lambda: put(producer, "Q", b"late")).start()
    started = time.monotonic()
    assert get(consumer, "Q", wait_ms=5000).body == b"late"
    assert time.monotonic() - started < 2


def test_restart_keeps_persistent_messages_and_returns_uncommitted_gets(qm, connect):
    qm.define_queue("Q", default_persistence=True)
    s = connect()
    put(s, "Q", b"kept")  # DEFPSIST(YES)
    put(s, "Q", b"lost", persistence=NOT_PERSISTENT)
    put(s, "Q", b"in flight", persistence=PERSISTENT)
    c = connect()
    assert get(c, "Q", syncpoint=True).body == b"kept"
    qm.restart()
    assert reason_of(lambda: get(c, "Q")) == 2009
    assert reason_of(c.commit) == 2009
    fresh = connect()
    bodies = [(m.body, m.md.backout_count) for m in qm.messages("Q")]
    assert bodies == [(b"kept", 1), (b"in flight", 0)]
    assert get(fresh, "Q").md.persistence == PERSISTENT


def test_expired_messages_are_not_delivered(connect):
    s = connect()
    put(s, "Q", b"short", expiry=1)  # tenths of a second
    put(s, "Q", b"long", expiry=600)
    time.sleep(0.15)
    got = get(s, "Q")
    assert got.body == b"long"
    assert 0 < got.md.expiry <= 600  # what was left, as MQ reports it
    assert reason_of(lambda: get(s, "Q")) == 2033


def test_match_by_correlation_id(connect):
    s = connect()
    put(s, "R", b"other", correl_id=b"B".ljust(24, b"\0"))
    put(s, "R", b"mine", correl_id=b"A".ljust(24, b"\0"))
    assert get(s, "R", correl_id=b"A".ljust(24, b"\0")).body == b"mine"
    assert reason_of(lambda: get(s, "R", correl_id=b"A".ljust(24, b"\0"))) == 2033
    assert get(s, "R").body == b"other"


def test_reason_codes_for_full_unknown_unauthorised_and_unavailable(qm, connect):
    qm.autodefine = False
    qm.define_queue("SMALL", max_depth=1)
    s = connect()
    put(s, "SMALL", b"1")
    assert reason_of(lambda: put(s, "SMALL", b"2")) == 2053
    assert reason_of(lambda: put(s, "NOPE", b"x")) == 2085
    with pytest.raises(MQError) as caught:
        get(s, "NOPE")
    error = caught.value
    assert (error.comp, error.name) == (2, "MQRC_UNKNOWN_OBJECT_NAME")
    assert "define the queue" in str(error)
    qm.users = {"app": "secret"}
    assert reason_of(lambda: connect(user="app", password="wrong")) == 2035
    assert reason_of(lambda: connect(user="app", password="secret", queue_manager="OTHER")) == 2059
    qm.set_available(False)
    assert reason_of(lambda: connect(user="app", password="secret")) == 2538


def test_sever_breaks_connections_and_backs_out(qm, connect):
    s = connect()
    put(s, "Q", b"x")
    get(s, "Q", syncpoint=True)
    qm.sever()
    assert reason_of(lambda: put(s, "Q", b"y")) == 2009
    s.close()
    assert reason_of(lambda: put(s, "Q", b"y")) == 2018
    assert [(m.body, m.md.backout_count) for m in qm.messages("Q")] == [(b"x", 1)]


def test_close_backs_out_uncommitted_work(qm, connect):
    s = connect()
    put(s, "Q", b"x")
    get(s, "Q", syncpoint=True)
    s.close()
    assert qm.depth("Q") == 1
    assert qm.committed_gets("Q") == []


def test_many_threads_each_message_once(qm, connect):
    qm.define_queue("Q", max_depth=10_000)
    producer = connect()
    for i in range(2000):
        put(producer, "Q", str(i).encode())
    got: list[bytes] = []
    lock = threading.Lock()

    sessions = [connect() for _ in range(6)]

    def consume(s) -> None:
        while True:
            try:
                m = get(s, "Q", syncpoint=True)
            except MQError:
                return
            if int(m.body) % 7 == 0 and m.md.backout_count == 0:
                s.backout()
                continue
            s.commit()
            with lock:
                got.append(m.body)

    threads = [threading.Thread(target=consume, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(int(b) for b in got) == list(range(2000))
