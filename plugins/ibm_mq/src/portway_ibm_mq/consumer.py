"""One consumer thread of an ``ibm_mq`` channel: get, invoke, commit or back out.

Each consumer has its own connection, so its unit of work is its own:

1. MQGET under syncpoint (waiting ``wait_interval_ms``; 2033 is silent);
2. a message whose BackoutCount reached the queue's BOTHRESH is moved to
   BOQNAME (or, without one, to the dead-letter queue behind an MQDLH with
   reason 2362) in the same unit of work, then committed: once, MQMD kept;
3. a message whose MQRFH2 cannot be read is moved the same way at once
   (reason 2421 MQRC_RFH_FORMAT_ERROR in the MQDLH), the parse error logged:
   no retry can make it readable;
4. otherwise the service is invoked with the body after any MQRFH2, the
   properties and the JMS headers; commit when it returns, back out
   (BackoutCount + 1) when it raises.

A lost connection (2009, 2161, 2538...) or any other MQ failure closes the
connection and reopens it with capped exponential backoff, logged once per
outage. Nothing is acknowledged before the service has returned, so a crash
at any point leaves the message on the queue for the next consumer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import structlog

from portway.declarations import ChannelHost, Delivery
from portway.errors import describe
from portway_ibm_mq import deadletter, reasons
from portway_ibm_mq.backend import open_session
from portway_ibm_mq.message import Message
from portway_ibm_mq.reasons import MQError
from portway_ibm_mq.received import Received, receive
from portway_ibm_mq.session import QueueAttributes, Session
from portway_ibm_mq.settings import MQChannelSettings, MQConnectionSettings

LAG_EVERY_S = 5.0  # how often the first consumer of a channel inquires the queue's depth
log = structlog.get_logger("portway.ibm_mq")


@dataclass(frozen=True)
class ChannelContext:
    """What every consumer of one channel shares."""

    channel: str
    settings: MQChannelSettings
    connection: MQConnectionSettings
    host: ChannelHost
    stopping: threading.Event


class Outage:
    """Backoff and log-once bookkeeping while a consumer cannot reach its queue."""

    def __init__(self, ctx: ChannelContext, index: int) -> None:
        self.ctx = ctx
        self.index = index
        self.reason: str | None = None
        self.since = 0.0
        self.attempts = 0
        self.delay = ctx.connection.reconnect_initial_s

    def failed(self, exc: BaseException) -> float:
        """Note a failure; return how long to wait before the next attempt."""
        text = describe(exc)
        if self.reason is None:
            self.since = time.monotonic()
            lost = not isinstance(exc, MQError) or exc.connection_lost
            log.warning(
                # A lost connection, or a queue that cannot be used (2085, 2035...): retried alike.
                "mq_connection_lost" if lost else "mq_queue_unavailable",
                channel=self.ctx.channel,
                consumer=self.index,
                queue=self.ctx.settings.queue,
                reason=text,
                retry_in_s=self.delay,
            )
        else:
            log.debug("mq_reconnect_failed", channel=self.ctx.channel, consumer=self.index, reason=text)
        self.reason = text
        self.attempts += 1
        wait = self.delay
        self.delay = min(self.delay * 2, self.ctx.connection.reconnect_max_s)
        return wait

    def recovered(self) -> None:
        if self.reason is None:
            return
        log.info(
            "mq_reconnected",
            channel=self.ctx.channel,
            consumer=self.index,
            attempts=self.attempts,
            down_s=round(time.monotonic() - self.since, 3),
        )
        self.reason = None
        self.attempts = 0
        self.delay = self.ctx.connection.reconnect_initial_s


class LagReporter:
    """Every LAG_EVERY_S, the queue's depth (MQINQ CURDEPTH) as the channel's consumer lag."""

    def __init__(self, ctx: ChannelContext, session: Session) -> None:
        self.ctx = ctx
        self.session = session
        self.due = 0.0
        self.refused = False

    def maybe_report(self) -> None:
        now = time.monotonic()
        if self.refused or now < self.due:
            return
        self.due = now + LAG_EVERY_S
        try:
            depth = self.session.depth(self.ctx.settings.queue)
        except MQError as exc:
            if exc.reason == reasons.NOT_AUTHORIZED:  # no +inq on the queue: say so once, stop asking
                self.refused = True
                log.warning("mq_depth_not_authorized", channel=self.ctx.channel, reason=exc.reason)
                return
            raise
        self.ctx.host.report_lag(self.ctx.channel, depth)


class Consumer:
    """A thread consuming the channel's queue over its own connection."""

    def __init__(self, ctx: ChannelContext, index: int) -> None:
        self.ctx = ctx
        self.index = index
        self.outage = Outage(ctx, index)
        self.thread = threading.Thread(target=self._run, name=f"mq:{ctx.channel}:{index}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        stopping = self.ctx.stopping
        while not stopping.is_set():
            session: Session | None = None
            try:
                session = open_session(self.ctx.connection)
                self._consume(session)
            except Exception as exc:  # MQ failures and anything unexpected: reconnect
                if session is not None:
                    _close_quietly(session)
                if not isinstance(exc, MQError):
                    log.error("mq_consumer_error", channel=self.ctx.channel, exc_info=exc)
                stopping.wait(self.outage.failed(exc))
                continue
            except BaseException as exc:
                # The thread is being torn down (SystemExit...): leave the unit of work
                # as it is; the queue manager backs it out when the connection goes.
                log.critical("mq_consumer_died", channel=self.ctx.channel, error=describe(exc))
                raise
            _close_quietly(session)

    def _consume(self, session: Session) -> None:
        queue = self.ctx.settings.queue
        wait_ms = self.ctx.settings.wait_interval_ms
        attributes = session.queue_attributes(queue)
        lag = LagReporter(self.ctx, session) if self.index == 0 else None  # one per channel is enough
        while not self.ctx.stopping.is_set():
            if lag is not None:
                lag.maybe_report()
            try:
                message = session.get(queue, wait_ms=wait_ms, syncpoint=True)
            except MQError as exc:
                if exc.reason != reasons.NO_MSG_AVAILABLE:
                    raise
                self.outage.recovered()
                continue
            self.outage.recovered()
            if message.md.backout_count:
                attributes = session.queue_attributes(queue)  # BOTHRESH may have been altered
            threshold = attributes.backout_threshold or self.ctx.settings.default_backout_threshold
            if message.md.backout_count >= threshold:
                self._dispose(session, message, attributes, reasons.BACKOUT_THRESHOLD_REACHED)
                continue
            received = receive(message)
            if received.problem:
                log.error(
                    "mq_message_unreadable",
                    channel=self.ctx.channel,
                    msg_id=message.md.msg_id.hex(),
                    error=received.problem,
                )
                self._dispose(session, message, attributes, reasons.RFH_FORMAT_ERROR)
                continue
            self._process(session, received)

    def _process(self, session: Session, message: Received) -> None:
        ctx = self.ctx
        try:
            payload = message.payload(ctx.settings.data_format)
            ctx.host.dispatch(
                Delivery(
                    service=ctx.settings.service,
                    payload=payload,
                    channel=ctx.channel,
                    headers=message.header_text(),
                    meta={"mq": message.md, "jms": message.jms, "properties": message.properties},
                )
            )
        except Exception as exc:
            log.warning(
                "mq_message_backed_out",
                channel=ctx.channel,
                msg_id=message.md.msg_id.hex(),
                backout_count=message.md.backout_count + 1,
                error=describe(exc),
            )
            session.backout()
            ctx.host.count_message(ctx.channel, "backed_out")
            return
        session.commit()

    def _dispose(self, session: Session, message: Message, attributes: QueueAttributes, reason: int) -> None:
        """Move a poison message off the queue, as got, in this unit of work."""
        ctx = self.ctx
        queue = ctx.settings.queue
        fields = {"channel": ctx.channel, "queue": queue, "msg_id": message.md.msg_id.hex()}
        if attributes.backout_queue:
            try:
                session.put(
                    attributes.backout_queue, message.body, message.md, message.properties, syncpoint=True
                )
            except MQError as exc:
                if exc.connection_lost:
                    raise
                log.error("mq_backout_queue_failed", **fields, reason=describe(exc))
            else:
                session.commit()
                ctx.host.count_message(ctx.channel, "moved_to_error")
                log.warning(
                    "mq_poison_message_moved",
                    **fields,
                    to=attributes.backout_queue,
                    backout_count=message.md.backout_count,
                )
                return
        dead_letter_queue = session.dead_letter_queue()
        if dead_letter_queue:
            body, md = deadletter.wrap(message, reason, queue, session.queue_manager_name())
            session.put(dead_letter_queue, body, md, message.properties, syncpoint=True)
            session.commit()
            ctx.host.count_message(ctx.channel, "moved_to_error")
            log.warning(
                "mq_poison_message_dead_lettered",
                **fields,
                to=dead_letter_queue,
                reason=reason,
            )
            return
        log.error(
            "mq_poison_message_stuck",
            **fields,
            hint="set BOQNAME on the queue or DEADQ on the queue manager",
        )
        session.backout()
        self.ctx.stopping.wait(self.ctx.connection.reconnect_max_s)


def _close_quietly(session: Session) -> None:
    try:
        session.close()
    except Exception as exc:  # a broken connection may fail to close; it is gone either way
        log.debug("mq_close_failed", reason=describe(exc))
