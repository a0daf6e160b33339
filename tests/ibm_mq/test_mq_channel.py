"""The ibm_mq channel, started by the runtime from stored config, on the in-memory QM."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from mq_probe import wait_for
from structlog.testing import capture_logs

from portway_ibm_mq import deadletter
from portway_ibm_mq.client import MQClient
from portway_ibm_mq.message import FMT_DEAD_LETTER_HEADER, FMT_STRING, MQMD
from portway_ibm_mq.settings import MQConnectionSettings


def test_commit_on_success(qm, make_runtime, sender, probe):
    rt = make_runtime(channel={})
    sent = [sender.send(f"m{i}", "IN", priority=5, persistence=True, headers={"n": str(i)}) for i in range(3)]
    wait_for(lambda: len(qm.committed_gets("IN")) == 3, what="3 commits")
    assert probe.payloads() == ["m0", "m1", "m2"]
    assert qm.depth("IN") == 0
    assert qm.committed_gets("IN") == [md.msg_id for md in sent]
    first = probe.seen[0]
    assert isinstance(first.mq, MQMD)
    assert first.mq.msg_id == sent[0].msg_id
    assert first.mq.backout_count == 0
    assert first.mq.persistent and first.mq.priority == 5 and first.mq.format == FMT_STRING
    assert first.mq.put_datetime is not None
    assert first.headers == {"n": "0"}
    assert ("ibm_mq", "IN") in rt.channels.running


def test_backout_on_exception_then_redelivered(qm, make_runtime, sender, probe):
    probe.fail_once.add("flaky")
    make_runtime(channel={})
    sent = sender.send("flaky", "IN")
    wait_for(lambda: len(qm.committed_gets("IN")) == 1, what="the redelivered message's commit")
    assert probe.payloads() == ["flaky", "flaky"]
    assert [s.mq.backout_count for s in probe.seen] == [0, 1]
    assert qm.committed_gets("IN") == [sent.msg_id]
    assert qm.depth("SYSTEM.DEAD.LETTER.QUEUE") == 0


def test_poison_message_moves_to_backout_queue_exactly_once(qm, make_runtime, sender, probe):
    qm.define_queue("IN", backout_threshold=3, backout_queue="IN.BOQ")
    qm.define_queue("IN.BOQ")
    probe.fail.add("poison")
    make_runtime(channel={"consumers": 2})
    original = sender.send("poison", "IN", persistence=True, priority=7, correlation_id="order-42")
    sender.send("fine", "IN")
    wait_for(lambda: qm.depth("IN.BOQ") == 1, what="the poison message on the backout queue")
    time.sleep(0.3)  # would a second copy arrive?
    assert qm.depth("IN.BOQ") == 1
    assert qm.depth("IN") == 0
    assert qm.depth("SYSTEM.DEAD.LETTER.QUEUE") == 0
    assert Counter(probe.payloads()) == {"poison": 3, "fine": 1}
    assert sorted(s.mq.backout_count for s in probe.seen if s.payload == "poison") == [0, 1, 2]
    [moved] = qm.messages("IN.BOQ")
    assert moved.body == b"poison"
    kept = ("msg_id", "correl_id", "persistence", "priority", "format", "put_date", "put_time")
    assert {k: getattr(moved.md, k) for k in kept} == {k: getattr(original, k) for k in kept}
    assert qm.committed_gets("IN").count(original.msg_id) == 1


def test_poison_without_backout_queue_goes_to_dead_letter_queue(qm, make_runtime, sender, probe):
    # BOTHRESH 0 (none): the channel's default threshold applies, so it cannot loop forever.
    qm.define_queue("IN", backout_threshold=0)
    probe.fail.add("poison")
    make_runtime(channel={"default_backout_threshold": 2})
    original = sender.send("poison", "IN")
    wait_for(lambda: qm.depth("SYSTEM.DEAD.LETTER.QUEUE") == 1, what="the poison message on the DLQ")
    time.sleep(0.2)
    assert qm.depth("SYSTEM.DEAD.LETTER.QUEUE") == 1
    assert probe.payloads() == ["poison", "poison"]
    [dead] = qm.messages("SYSTEM.DEAD.LETTER.QUEUE")
    assert dead.md.format == FMT_DEAD_LETTER_HEADER
    assert dead.md.msg_id == original.msg_id
    header, body = deadletter.unwrap(dead.body)
    assert body == b"poison"
    assert header.reason == 2362
    assert header.dest_q_name == "IN"
    assert header.dest_q_mgr_name == qm.name
    assert header.format == FMT_STRING


# The consumer thread dying with an exception is the point of this test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_killed_mid_message_is_redelivered_nothing_lost_nothing_duplicated(
    qm, make_runtime, mq_settings, probe
):
    qm.define_queue("IN", backout_threshold=3, backout_queue="IN.BOQ", default_persistence=True)
    qm.define_queue("IN.BOQ")
    probe.kill_once.add("m2")
    with MQClient.open(MQConnectionSettings.model_validate(mq_settings)) as client:
        sent = [client.send(f"m{i}", "IN") for i in range(5)]
    first = make_runtime(channel={})
    runner = first.channels.running[("ibm_mq", "IN")][1]
    wait_for(lambda: runner.alive == 0, what="the consumer thread to die on m2")
    assert probe.payloads() == ["m0", "m1", "m2"]
    assert qm.depth("IN") == 3  # m2 is held by the dead consumer's unit of work, m3 and m4 wait

    # The process is gone: the queue manager restarts without a commit from it.
    qm.restart()
    assert qm.depth("IN") == 3  # persistent messages survive, m2 is back

    make_runtime()  # a new server on the same environment and stored channel
    wait_for(lambda: len(qm.committed_gets("IN")) == 5, what="all five committed")
    assert probe.payloads() == ["m0", "m1", "m2", "m2", "m3", "m4"]
    redelivered = [s for s in probe.seen if s.payload == "m2"][1]
    assert redelivered.mq.backout_count == 1
    assert sorted(qm.committed_gets("IN")) == sorted(md.msg_id for md in sent)
    assert qm.depth("IN") == 0
    assert qm.depth("IN.BOQ") == 0


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_message_that_kills_every_server_lands_on_the_backout_queue_once(
    qm, make_runtime, mq_settings, probe
):
    qm.define_queue("IN", backout_threshold=2, backout_queue="IN.BOQ", default_persistence=True)
    qm.define_queue("IN.BOQ")
    probe.kill.add("deadly")
    with MQClient.open(MQConnectionSettings.model_validate(mq_settings)) as client:
        deadly = client.send("deadly", "IN")
        client.send("fine", "IN")
    for crash in range(2):  # each server dies on it; the QM backs it out when the server is gone
        runtime = make_runtime(channel={} if crash == 0 else None)
        runner = runtime.channels.running[("ibm_mq", "IN")][1]
        wait_for(lambda runner=runner: runner.alive == 0, what=f"server {crash + 1} to die")
        qm.restart()
    make_runtime()
    wait_for(lambda: qm.depth("IN.BOQ") == 1 and qm.depth("IN") == 0, what="deadly on the BOQ, fine done")
    time.sleep(0.2)
    assert [m.md.msg_id for m in qm.messages("IN.BOQ")] == [deadly.msg_id]
    assert probe.payloads().count("deadly") == 2
    assert probe.payloads().count("fine") == 1


def test_stop_drains_in_flight_message(qm, make_runtime, sender, probe):
    entered, release = probe.gate("slow")
    rt = make_runtime(channel={})
    sender.send("slow", "IN")
    sender.send("after", "IN")
    assert entered.wait(10)
    runner = rt.channels.running[("ibm_mq", "IN")][1]
    stopped = threading.Event()
    stopper = threading.Thread(target=lambda: (runner.stop(drain_s=10), stopped.set()))
    stopper.start()
    assert not stopped.wait(0.3), "stop returned while a message was in flight"
    release.set()
    assert stopped.wait(10)
    stopper.join()
    assert runner.alive == 0
    assert len(qm.committed_gets("IN")) == 1  # "slow" finished and was committed
    assert [m.body for m in qm.messages("IN")] == [b"after"]  # not got after the stop
    assert probe.payloads() == ["slow"]


def test_reconnects_after_connection_broken(qm, make_runtime, mq_settings, probe):
    make_runtime(channel={"consumers": 2})
    wait_for(lambda: qm.connection_count() >= 2, what="two consumer connections")
    with capture_logs() as logs:
        qm.set_available(False)
        qm.sever()  # every connection gets 2009; reconnects get 2538 while it is down
        time.sleep(0.4)
        qm.set_available(True)
        with MQClient.open(MQConnectionSettings.model_validate(mq_settings)) as client:
            client.send("after the outage", "IN")
        wait_for(lambda: probe.payloads() == ["after the outage"], what="the message after reconnect")
        wait_for(
            lambda: sum(e["event"] == "mq_reconnected" for e in logs) == 2, what="both consumers reconnected"
        )
    lost = [e for e in logs if e["event"] == "mq_connection_lost"]
    assert len(lost) == 2, "logged once per consumer per outage, not per attempt"
    assert all("2009 MQRC_CONNECTION_BROKEN" in e["reason"] for e in lost)
    assert sum(e["event"] == "mq_reconnect_failed" for e in logs) >= 2  # retried while down, quietly


@pytest.mark.slow
def test_ten_thousand_messages_four_consumers_exactly_once(qm, make_runtime, sender, probe):
    qm.define_queue("IN", max_depth=20_000)
    count = 10_000
    sent = [sender.send(str(i), "IN").msg_id for i in range(count)]
    make_runtime(channel={"consumers": 4})
    wait_for(lambda: len(qm.committed_gets("IN")) == count, timeout_s=120, what="10,000 commits")
    seen = probe.payloads()
    assert len(seen) == count
    assert sorted(map(int, seen)) == list(range(count))
    assert sorted(qm.committed_gets("IN")) == sorted(sent)
    assert qm.depth("IN") == 0
    assert len({s.thread for s in probe.seen}) == 4


def test_builtin_log_message_service_logs_payload_and_mqmd(qm, make_runtime, sender):
    make_runtime(channel={"service": "portway.log-message"})
    with capture_logs() as logs:
        sent = sender.send("hello from MQ", "IN", correlation_id="abc")
        wait_for(lambda: len(qm.committed_gets("IN")) == 1, what="commit")
    [event] = [e for e in logs if e["event"] == "message_received"]
    assert event["payload"] == "hello from MQ"
    assert event["channel"] == "IN"
    assert event["meta"]["mq"].msg_id == sent.msg_id
    assert sent.msg_id.hex() in repr(event["meta"]["mq"])


def test_channel_naming_a_missing_connection_fails_to_start_with_reason(make_runtime, portway_env):
    rt = make_runtime()
    rt.catalog.create("channel", "ibm_mq", "ORPHAN", {"connection": "nope", "queue": "Q", "service": "x"})
    rt.refresh()
    assert ("ibm_mq", "ORPHAN") not in rt.channels.running
    assert "nope" in rt.channels.failures[("ibm_mq", "ORPHAN")]


def test_backout_queue_that_cannot_take_it_falls_back_to_dead_letter_queue(qm, make_runtime, sender, probe):
    qm.autodefine = False
    qm.define_queue("IN", backout_threshold=1, backout_queue="NOT.DEFINED")
    probe.fail.add("poison")
    with capture_logs() as logs:
        make_runtime(channel={})
        sender.send("poison", "IN")
        wait_for(lambda: qm.depth("SYSTEM.DEAD.LETTER.QUEUE") == 1, what="the DLQ to get it")
    assert qm.depth("IN") == 0
    [failed] = [e for e in logs if e["event"] == "mq_backout_queue_failed"]
    assert "2085 MQRC_UNKNOWN_OBJECT_NAME" in failed["reason"]


def test_body_that_is_not_json_is_backed_out_like_a_failing_service(qm, make_runtime, sender, probe):
    qm.define_queue("IN", backout_threshold=2, backout_queue="IN.BOQ")
    make_runtime(channel={"data_format": "json"})
    sender.send("{not json", "IN")
    sender.send({"ok": True}, "IN")
    wait_for(lambda: qm.depth("IN.BOQ") == 1 and qm.depth("IN") == 0, what="bad body on the BOQ")
    assert probe.payloads() == [{"ok": True}]


def test_stop_returns_after_the_drain_time_when_a_service_hangs(qm, make_runtime, sender, probe):
    entered, release = probe.gate("stuck")
    rt = make_runtime(channel={})
    sender.send("stuck", "IN")
    assert entered.wait(10)
    runner = rt.channels.running[("ibm_mq", "IN")][1]
    with capture_logs() as logs:
        started = time.monotonic()
        runner.stop(drain_s=0.2)
        assert time.monotonic() - started < 5
    assert [e["busy"] for e in logs if e["event"] == "mq_channel_drain_timeout"] == [["mq:IN:0"]]
    release.set()
    wait_for(lambda: runner.alive == 0, what="the consumer to finish after release")
    assert len(qm.committed_gets("IN")) == 1  # the late service still got its commit


def test_async_service_behind_a_channel(qm, make_runtime, sender):
    service = """
    from portway import Service
    from mq_probe import probe

    class Async(Service):
        name = "mq.async"

        async def handle(self):
            probe.handle(self.request.payload, self.request.mq, self.request.headers)
    """
    make_runtime(channel={"service": "mq.async"}, services={"async_service.py": service})
    sender.send("from async", "IN")
    wait_for(lambda: len(qm.committed_gets("IN")) == 1, what="commit")


def test_channel_on_a_missing_queue_waits_for_it_logging_once(qm, make_runtime, mq_settings, probe):
    qm.autodefine = False
    with capture_logs() as logs:
        make_runtime(channel={})
        time.sleep(0.3)
        qm.define_queue("IN")
        with MQClient.open(MQConnectionSettings.model_validate(mq_settings)) as client:
            client.send("finally", "IN")
        wait_for(lambda: probe.payloads() == ["finally"], what="the message once the queue exists")
    [unavailable] = [e for e in logs if e["event"] == "mq_queue_unavailable"]
    assert "2085 MQRC_UNKNOWN_OBJECT_NAME" in unavailable["reason"]
    assert not [e for e in logs if e["event"] == "mq_connection_lost"]
