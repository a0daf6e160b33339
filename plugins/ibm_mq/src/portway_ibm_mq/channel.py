"""The ``ibm_mq`` channel: N consumers on one queue, stopped with a drain."""

from __future__ import annotations

import threading
import time

import structlog

from portway.declarations import ChannelHost
from portway.errors import ConfigError
from portway_ibm_mq.consumer import ChannelContext, Consumer
from portway_ibm_mq.settings import MQChannelSettings, MQConnectionSettings

log = structlog.get_logger("portway.ibm_mq")

CONNECTION_TYPE = "ibm_mq"


class MQChannelRunner:
    """A started channel: its consumer threads."""

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.consumers = [Consumer(ctx, index) for index in range(ctx.settings.consumers)]

    @classmethod
    def start(cls, name: str, settings: MQChannelSettings, host: ChannelHost) -> MQChannelRunner:
        """The ChannelType's ``start``: resolve the connection, start the consumers.

        A queue manager that is down does not stop the channel from starting:
        its consumers keep reconnecting until it is back.
        """
        connection = host.connection_settings(CONNECTION_TYPE, settings.connection)
        if not isinstance(connection, MQConnectionSettings):
            raise ConfigError(
                f"ibm_mq channel {name!r}", "setting 'connection' must name an ibm_mq connection"
            )
        runner = cls(ChannelContext(name, settings, connection, host, threading.Event()))
        for consumer in runner.consumers:
            consumer.start()
        return runner

    def stop(self, drain_s: float) -> None:
        """Stop getting; let in-flight messages finish and be committed or backed out.

        Returns when every consumer thread has exited, or after ``drain_s``
        plus one MQGET wait interval, logging the consumers still busy.
        """
        self.ctx.stopping.set()
        deadline = time.monotonic() + drain_s + self.ctx.settings.wait_interval_ms / 1000
        for consumer in self.consumers:
            consumer.thread.join(max(0.0, deadline - time.monotonic()))
        busy = [c.thread.name for c in self.consumers if c.thread.is_alive()]
        if busy:
            log.warning("mq_channel_drain_timeout", channel=self.ctx.channel, busy=busy, drain_s=drain_s)

    @property
    def alive(self) -> int:
        """How many consumer threads are running."""
        return sum(1 for c in self.consumers if c.thread.is_alive())
