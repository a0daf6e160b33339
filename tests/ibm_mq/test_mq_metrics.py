"""An MQ channel's message counts in /metrics: taken, succeeded, failed, backed out, moved to error."""

from __future__ import annotations

import time

from mq_probe import wait_for
from prometheus_client.parser import text_string_to_metric_families

from portway.server.metrics import Scrape


def _messages(rt: object) -> dict[str, float]:
    text = Scrape(rt).render()[0].decode()  # type: ignore[arg-type]
    return {
        s.labels["outcome"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "portway_channel_messages_total" and s.labels["channel"] == "IN"
    }


def test_poison_message_counts(qm, make_runtime, sender, probe):
    qm.define_queue("IN", backout_threshold=3, backout_queue="IN.BOQ")
    qm.define_queue("IN.BOQ")
    probe.fail.add("poison")
    rt = make_runtime(channel={})
    sender.send("poison", "IN")
    sender.send("fine", "IN")
    wait_for(lambda: qm.depth("IN.BOQ") == 1 and len(qm.committed_gets("IN")) == 2, what="both handled")
    time.sleep(0.2)  # would anything more be counted?
    assert _messages(rt) == {
        "taken": 4,  # the poison message three times, then the fine one
        "succeeded": 1,
        "failed": 3,
        "backed_out": 3,
        "moved_to_error": 1,
    }
    calls = rt.stats.calls("mq.record", "ibm_mq").snapshot()
    assert calls[:3] == (4, 3, 0)  # calls, errors, in flight


def _lag(rt: object) -> float | None:
    text = Scrape(rt).render()[0].decode()  # type: ignore[arg-type]
    found = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "portway_channel_lag_messages" and s.labels == {"type": "ibm_mq", "channel": "IN"}
    ]
    return found[0] if found else None


def test_queue_depth_is_the_channels_lag(qm, make_runtime, sender, monkeypatch):
    from portway_ibm_mq import consumer

    monkeypatch.setattr(consumer, "LAG_EVERY_S", 0.05)
    qm.define_queue("IN")
    for n in range(3):
        sender.send(f"m{n}", "IN")
    rt = make_runtime(channel={})
    wait_for(lambda: len(qm.committed_gets("IN")) == 3, what="all three handled")
    wait_for(lambda: _lag(rt) == 0, what="lag back to 0")
