"""Sending from services (self.out.ibm_mq), request/reply, ping, the send action, settings."""

from __future__ import annotations

import time

import pytest

from portway.errors import ConnectionFailed, SettingError
from portway.invocation import ServiceFailed
from portway.testing import run_action
from portway_ibm_mq.message import MSGTYPE_REPLY, MSGTYPE_REQUEST, NOT_PERSISTENT, PERSISTENT, to_id
from portway_ibm_mq.reasons import MQError

SEND_SERVICE = """
from portway import Service

class Send(Service):
    name = "mq.send"

    def handle(self):
        p = self.request.payload
        md = self.out.ibm_mq["QM"].send(p["data"], p["queue"], **p.get("options", {}))
        self.response.payload = md.msg_id.hex()
"""

REPLY_SERVICE = """
from portway import Service

class Echo(Service):
    name = "mq.echo"

    def handle(self):
        self.out.ibm_mq["QM"].reply(self.request.mq, {"echo": self.request.payload})


class Ask(Service):
    name = "mq.ask"

    def handle(self):
        p = self.request.payload
        reply = self.out.ibm_mq["QM"].request(p, "REQ", "REPLY", timeout_s=p.get("timeout", 10))
        self.response.payload = {"text": reply.text, "correl_id": reply.md.correl_id.hex(),
                                 "msg_type": reply.md.msg_type}
"""


def test_send_options_reach_the_message_descriptor(qm, make_runtime):
    rt = make_runtime(services={"send.py": SEND_SERVICE})
    options = {
        "priority": 8,
        "expiry": 60,
        "persistence": True,
        "correlation_id": "order-7",
        "message_id": "my-own-id",
        "reply_to": "ANSWERS",
        "format": "MYFMT",
        "headers": {"tenant": "acme"},
    }
    msg_id = rt.invoke("mq.send", {"data": "hi", "queue": "OUT", "options": options}).payload
    rt.invoke("mq.send", {"data": {"a": 1}, "queue": "OUT", "options": {"persistence": False}})
    rt.invoke("mq.send", {"data": "low", "queue": "OUT", "options": {"priority": 0}})
    first, second, third = qm.messages("OUT")
    assert first.body == b"hi"
    md = first.md
    assert md.msg_id == to_id("my-own-id") and md.msg_id.hex() == msg_id
    assert md.correl_id == to_id("order-7")
    assert (md.priority, md.persistence, md.format, md.reply_to_q) == (8, PERSISTENT, "MYFMT", "ANSWERS")
    assert md.msg_type == MSGTYPE_REQUEST
    assert 590 <= md.expiry <= 600
    assert first.properties == {"tenant": "acme"}
    assert second.body == b'{"a":1}' and second.md.format == "MQSTR"
    assert second.md.persistence == NOT_PERSISTENT and second.md.expiry == -1
    assert third.md.priority == 0


def test_send_to_unknown_queue_fails_with_reason_and_hint(qm, make_runtime, backend):
    qm.autodefine = False
    rt = make_runtime(services={"send.py": SEND_SERVICE})
    with pytest.raises(ServiceFailed) as caught:
        rt.invoke("mq.send", {"data": "x", "queue": "NOWHERE"})
    error = caught.value.error
    assert isinstance(error, MQError) and error.reason == 2085
    # A real queue manager refuses the MQOPEN before the put; the memory one the MQPUT.
    assert error.operation == ("MQPUT" if backend == "memory" else "MQOPEN")
    expected = f"{error.operation} on queue 'NOWHERE': 2085 MQRC_UNKNOWN_OBJECT_NAME: define the queue"
    assert expected in str(error)


def test_bad_send_option_is_refused_before_anything_is_put(qm, make_runtime):
    rt = make_runtime(services={"send.py": SEND_SERVICE})
    with pytest.raises(ServiceFailed, match="priority is 0"):
        rt.invoke("mq.send", {"data": "x", "queue": "OUT", "options": {"priority": 10}})
    assert qm.depth("OUT") == 0


def test_request_reply_through_a_channel(qm, make_runtime):
    channel = {"queue": "REQ", "service": "mq.echo", "data_format": "json"}
    rt = make_runtime(channel=channel, services={"reply.py": REPLY_SERVICE})
    answer = rt.invoke("mq.ask", {"question": 42}).payload
    assert answer["text"] == '{"echo":{"question":42}}'
    assert answer["msg_type"] == MSGTYPE_REPLY
    assert qm.depth("REPLY") == 0 and qm.depth("REQ") == 0


def test_request_times_out_with_2033(qm, make_runtime):
    rt = make_runtime(services={"reply.py": REPLY_SERVICE})  # nobody consumes REQ
    started = time.monotonic()
    with pytest.raises(ServiceFailed) as caught:
        rt.invoke("mq.ask", {"timeout": 0.2})
    assert time.monotonic() - started < 5
    assert caught.value.error.reason == 2033
    assert "no reply on queue 'REPLY' within 0.2 s" in str(caught.value.error)


def test_pool_discards_a_client_whose_connection_broke(qm, make_runtime):
    rt = make_runtime(services={"send.py": SEND_SERVICE})
    rt.invoke("mq.send", {"data": "1", "queue": "OUT"})
    qm.sever()
    with pytest.raises(ServiceFailed) as caught:
        rt.invoke("mq.send", {"data": "2", "queue": "OUT"})
    assert caught.value.error.reason == 2009
    rt.invoke("mq.send", {"data": "3", "queue": "OUT"})  # a new connection from the pool
    assert [m.body for m in qm.messages("OUT")] == [b"1", b"3"]


def test_ping_reports_time_or_reason_with_hint(qm, make_runtime, portway_env):
    rt = make_runtime()
    assert rt.connections.ping("ibm_mq", "QM") >= 0
    qm.users = {"app": "right"}
    with pytest.raises(ConnectionFailed) as caught:
        rt.connections.ping("ibm_mq", "QM")
    assert "2035 MQRC_NOT_AUTHORIZED: check the user and password" in caught.value.reason
    rt.catalog.update("connection", "ibm_mq", "QM", {"user": "app", "password": "right"})
    assert rt.connections.ping("ibm_mq", "QM") >= 0
    qm.set_available(False)
    with pytest.raises(ConnectionFailed, match="2538 MQRC_HOST_NOT_AVAILABLE: check the host"):
        rt.connections.ping("ibm_mq", "QM")


def test_send_action_as_the_admin_api_runs_it(qm, make_runtime):
    rt = make_runtime()
    result = run_action(
        rt, "ibm_mq", "QM", "send", {"queue": "DEV.QUEUE.1", "data": "test message", "priority": 3}
    )
    [message] = qm.messages("DEV.QUEUE.1")
    assert message.body == b"test message"
    assert result["msg_id"] == message.md.msg_id.hex()
    assert result["priority"] == 3 and result["queue"] == "DEV.QUEUE.1"
    with pytest.raises(SettingError, match="priority"):
        run_action(rt, "ibm_mq", "QM", "send", {"queue": "Q", "priority": 12})


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("conn_name", "mq.example.com:1414", "is not host(port)"),
        ("backend", "rabbit", "use 'ibmmq' or 'memory:NAME'"),
        ("server_channel", "X" * 21, "at most 20"),
    ],
)
def test_bad_connection_settings_name_the_field_and_write_nothing(make_runtime, field, value, problem):
    rt = make_runtime()
    with pytest.raises(SettingError) as caught:
        rt.catalog.create("connection", "ibm_mq", "BAD", {field: value})
    assert caught.value.field == field and problem in str(caught.value)
    assert [i.name for i in rt.catalog.list("connection", "ibm_mq")] == ["QM"]


def test_key_repository_without_cipher_spec_is_refused(make_runtime):
    rt = make_runtime()
    with pytest.raises(SettingError, match="cipher_spec is empty"):
        rt.catalog.create("connection", "ibm_mq", "TLS", {"key_repository": "/var/mqm/ssl/key"})
