"""Browse and inquire a queue from the client and the actions, on both backends."""

from __future__ import annotations

from portway.testing import run_action
from portway_ibm_mq.message import MQMD
from portway_ibm_mq.rfh2 import FMT_RF_HEADER_2


def test_browse_lists_in_delivery_order_and_removes_nothing(qm, sender, connect):
    for body, priority in [("low", 1), ("high", 9), ("mid", 5), ("mid too", 5)]:
        sender.send(body, "Q", priority=priority)
    taken = connect()
    taken.get("Q", wait_ms=0, syncpoint=True)  # "high" is held in another unit of work
    assert [m.text for m in sender.browse("Q")] == ["mid", "mid too", "low"]
    assert [m.text for m in sender.browse("Q", limit=2)] == ["mid", "mid too"]
    assert qm.depth("Q") == 4 and qm.committed_gets("Q") == []
    taken.backout()
    browsed = sender.browse("Q", limit=1)
    assert [(m.text, m.md.backout_count) for m in browsed] == [("high", 1)]
    assert sender.browse("EMPTY") == []


def test_browse_reads_jms_messages_and_names_an_unreadable_one(qm, sender, connect):
    sender.send("hello", "Q", jms=True, properties={"n": 1})
    connect().put("Q", b"RFH \x00\x00", MQMD(format=FMT_RF_HEADER_2), {}, syncpoint=False)
    jms_message, broken = sender.browse("Q")
    assert jms_message.text == "hello" and jms_message.jms is not None and jms_message.properties == {"n": 1}
    assert "only 6 bytes left" in broken.problem and broken.body == b"RFH \x00\x00"


def test_depth_counts_units_of_work_and_attributes_are_inquired(qm, sender, connect):
    qm.define_queue("Q", backout_threshold=4, backout_queue="Q.BOQ")
    session = connect()
    session.put("Q", b"uncommitted", MQMD(), {}, syncpoint=True)
    sender.send("committed", "Q")
    assert sender.depth("Q") == 2
    session.backout()
    assert sender.depth("Q") == 1
    attributes = sender.queue_attributes("Q")
    assert (attributes.backout_threshold, attributes.backout_queue) == (4, "Q.BOQ")


def test_browse_and_depth_actions_as_the_console_and_admin_api_run_them(qm, make_runtime, sender):
    qm.define_queue("DEV.QUEUE.1", backout_threshold=3, backout_queue="DEV.QUEUE.1.BOQ")
    sent = sender.send("a" * 300, "DEV.QUEUE.1", priority=4, correlation_id="c-1")
    sender.send("to JMS", "DEV.QUEUE.1", jms=True, correlation_id="order-9", properties={"tenant": "acme"})
    sender.send(b"\x00\x01\x02", "DEV.QUEUE.1")
    rt = make_runtime()
    result = run_action(rt, "ibm_mq", "QM", "browse", {"queue": "DEV.QUEUE.1", "body_chars": 20})
    assert {k: result[k] for k in ("queue", "depth", "backout_threshold", "backout_queue")} == {
        "queue": "DEV.QUEUE.1",
        "depth": 3,
        "backout_threshold": 3,
        "backout_queue": "DEV.QUEUE.1.BOQ",
    }
    first, second, third = result["messages"]
    assert (first["#"], first["msg_id"], first["priority"], first["format"]) == (
        1,
        sent.msg_id.hex(),
        4,
        "MQSTR",
    )
    assert first["body"] == "a" * 20 + "…" and first["size"] == 300 and first["jms"] == ""
    assert (second["jms"], second["JMSCorrelationID"], second["JMSDestination"]) == (
        "jms_text",
        "order-9",
        "queue:///DEV.QUEUE.1",
    )
    assert second["properties"] == "tenant=acme" and second["body"] == "to JMS"
    assert third["body"] == "000102" and third["format"] == ""
    assert set(first) == set(second) == set(third)  # one shape: rows of a table
    assert run_action(rt, "ibm_mq", "QM", "depth", {"queue": "DEV.QUEUE.1"})["depth"] == 3
    assert qm.depth("DEV.QUEUE.1") == 3
