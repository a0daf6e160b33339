"""JMS both ways through a channel, on both backends; and what a malformed MQRFH2 does."""

from __future__ import annotations

import struct

import pytest
from mq_probe import wait_for
from structlog.testing import capture_logs
from test_mq_jms import java_message

from portway_ibm_mq import deadletter, jms, rfh2
from portway_ibm_mq.client import MQClient
from portway_ibm_mq.message import MQMD, MSGTYPE_REPLY
from portway_ibm_mq.settings import MQConnectionSettings

REPLY_SERVICE = """
from portway import Service

class Answer(Service):
    name = "mq.answer"

    def handle(self):
        self.out.ibm_mq["QM"].reply(self.request, {"answer": self.request.payload})
"""


def test_a_java_producers_message_reaches_the_service_as_jms_would_see_it(
    ibmmq, qm, make_runtime, connect, probe
):
    make_runtime(channel={})
    java = java_message(ibmmq, "Grüße".encode())
    connect().put(
        "IN", java.body, java.md.with_(put_date="", put_time="", backout_count=0), {}, syncpoint=False
    )
    wait_for(lambda: len(probe.seen) == 1, what="the JMS message")
    [seen] = probe.seen
    assert seen.payload == "Grüße"
    assert (seen.mq.format, seen.mq.coded_char_set_id) == ("MQSTR", 1208)
    assert seen.jms.destination == "queue:///DEV.QUEUE.1" and seen.jms.correlation_id == "order-42"
    assert seen.jms.type == "order.created" and seen.jms.expiration == 1700000060123
    assert seen.properties["count"] == 3 and seen.properties["vip"] is True
    assert seen.headers["JMSCorrelationID"] == "order-42" and seen.headers["tenant"] == "acme & co"
    assert len(qm.committed_gets("IN")) == 1


def test_a_jms_text_message_round_trip_with_typed_properties(qm, make_runtime, sender, probe):
    make_runtime(channel={})
    properties = {"tenant": "acme", "count": 5, "vip": True, "ratio": 0.5, "big": 2**40}
    sent = sender.send(
        "hello",
        "IN",
        jms=True,
        properties=properties,
        correlation_id="order-7",
        persistence=True,
        priority=7,
        expiry=60,
        jms_type="greeting",
    )
    sender.send(b"\x00\x01", "IN", jms=True)
    wait_for(lambda: len(probe.seen) == 2, what="two JMS messages")
    text, raw = probe.seen
    assert text.payload == "hello" and text.properties == properties
    headers = text.jms
    assert headers.message_id == jms.message_id(sent.msg_id)
    assert (headers.correlation_id, headers.destination, headers.type) == (
        "order-7",
        "queue:///IN",
        "greeting",
    )
    assert (headers.delivery_mode, headers.priority, headers.body_type) == (2, 7, "jms_text")
    assert headers.expiration - headers.timestamp == 60_000
    assert text.mq.correl_id == b"order-7".ljust(24, b"\0") and text.mq.persistent
    assert raw.payload == b"\x00\x01" and raw.jms.body_type == "jms_bytes" and raw.mq.format == ""


def test_target_client_jms_makes_every_send_a_jms_message(qm, mq_settings):
    settings = MQConnectionSettings.model_validate({**mq_settings, "target_client": "jms"})
    with MQClient.open(settings) as client:
        client.send({"a": 1}, "OUT", headers={"k": "v"})
        client.send("plain", "OUT", jms=False)
        first, second = client.get("OUT"), client.get("OUT")
    assert first is not None and first.jms is not None and first.jms.body_type == "jms_text"
    assert first.text == '{"a":1}' and first.properties == {"k": "v"}
    assert second is not None and second.jms is None and second.text == "plain"


def test_reply_to_a_jms_request_keeps_its_correlation_id(qm, make_runtime, sender):
    make_runtime(channel={"queue": "REQ", "service": "mq.answer"}, services={"answer.py": REPLY_SERVICE})
    sender.send("with id", "REQ", jms=True, reply_to="REPLY", correlation_id="order-7")
    asked = sender.send("without", "REQ", jms=True, reply_to="REPLY")
    first, second = sender.get("REPLY", wait_s=10), sender.get("REPLY", wait_s=10)
    assert first is not None and second is not None
    assert first.text == '{"answer":"with id"}' and first.md.msg_type == MSGTYPE_REPLY
    assert first.jms is not None and first.jms.correlation_id == "order-7"
    assert first.jms.destination == "queue:///REPLY"
    assert first.md.correl_id == b"order-7".ljust(24, b"\0")
    # No JMSCorrelationID on the request: the reply correlates on its JMSMessageID (MsgId), as MQ does.
    assert second.jms is not None and second.jms.correlation_id == jms.message_id(asked.msg_id)
    assert second.md.correl_id == asked.msg_id


def test_message_properties_keep_their_types(qm, make_runtime, sender, probe):
    make_runtime(channel={})
    properties = {
        "s": "text",
        "n": 42,
        "long": -(2**40),
        "yes": False,
        "f": 1.25,
        "raw": b"\x01\x02",
        "none": None,
    }
    sender.send("x", "IN", properties=properties)
    wait_for(lambda: len(probe.seen) == 1, what="the message")
    [seen] = probe.seen
    assert seen.properties == properties and seen.jms is None
    assert seen.headers == {
        "s": "text",
        "n": "42",
        "long": str(-(2**40)),
        "yes": "false",
        "f": "1.25",
        "raw": "0102",
        "none": "",
    }


def test_a_property_jms_cannot_carry_is_refused_at_send_and_nothing_is_put(qm, sender):
    with pytest.raises(jms.JMSPropertyError, match="JMS property 'JMSType': names starting with JMS"):
        sender.send("x", "OUT", jms=True, properties={"ok": 1, "JMSType": "t"})
    with pytest.raises(ValueError, match="message property 'nested': a dict value"):
        sender.send("x", "OUT", properties={"nested": {"a": 1}})
    assert qm.depth("OUT") == 0


def _good() -> bytes:
    return rfh2.wrap(
        ["<mcd><Msd>jms_text</Msd></mcd>", "<usr><a>1</a></usr>"],
        b"body",
        format="MQSTR",
        coded_char_set_id=1208,
    )


def _with_length(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + struct.pack("<i", value) + data[at + 4 :]


MALFORMED = {
    "StrucLength not a multiple of 4": (
        lambda d: _with_length(d, 8, 38),
        "StrucLength 38 is not a multiple of 4",
    ),
    "StrucLength past the end": (lambda d: _with_length(d, 8, 4000), "StrucLength 4000 runs past the end"),
    "folder length past the header": (lambda d: _with_length(d, 36, 900), "NameValueLength 900 runs past"),
    "truncated folder": (lambda d: d[:50], "runs past the end of the message"),
    "bad XML in a folder": (lambda d: d.replace(b"<a>1</a>", b"<a>1</b>"), "</b> at character"),
    "wrong StrucId": (lambda d: b"XYZ " + d[4:], "StrucId is b'XYZ '"),
    "shorter than the fixed part": (lambda d: d[:20], "only 20 bytes left"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_rfh2_goes_to_the_backout_queue_with_the_error_named(
    qm, make_runtime, connect, probe, case
):
    qm.define_queue("IN", backout_threshold=3, backout_queue="IN.BOQ")
    qm.define_queue("IN.BOQ")
    mangle, problem = MALFORMED[case]
    bad = mangle(_good())
    with capture_logs() as logs:
        runtime = make_runtime(channel={})
        session = connect()
        session.put("IN", bad, MQMD(format="MQHRF2"), {}, syncpoint=False)
        session.put("IN", _good(), MQMD(format="MQHRF2"), {}, syncpoint=False)
        wait_for(
            lambda: qm.depth("IN.BOQ") == 1 and len(probe.seen) == 1, what="bad one moved, good one done"
        )
    [moved] = qm.messages("IN.BOQ")
    assert moved.body == bad and moved.md.format == "MQHRF2"  # as it came, for someone to look at
    [event] = [e for e in logs if e["event"] == "mq_message_unreadable"]
    assert problem in event["error"] and event["error"].startswith("MQRFH2 header 1 (at byte 0)")
    assert probe.payloads() == ["body"]  # the service never saw the bad one; the good one passed
    assert runtime.channels.running[("ibm_mq", "IN")][1].alive == 1


def test_a_malformed_rfh2_without_a_backout_queue_is_dead_lettered_with_reason_2421(
    qm, make_runtime, connect, probe
):
    make_runtime(channel={})
    connect().put("IN", b"RFH \x02", MQMD(format="MQHRF2"), {}, syncpoint=False)
    wait_for(lambda: qm.depth("SYSTEM.DEAD.LETTER.QUEUE") == 1, what="the DLQ to get it")
    [dead] = qm.messages("SYSTEM.DEAD.LETTER.QUEUE")
    header, body = deadletter.unwrap(dead.body)
    assert (header.reason, header.format, body) == (2421, "MQHRF2", b"RFH \x02")
    assert probe.seen == []
