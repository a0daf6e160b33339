"""The client a service gets from ``self.out.ibm_mq[name]``: send, request, reply, get, browse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portway_ibm_mq import reasons
from portway_ibm_mq.backend import open_session
from portway_ibm_mq.jms import JMSHeaders
from portway_ibm_mq.message import MQMD, MSGTYPE_REPLY, to_id
from portway_ibm_mq.outgoing import SendOptions, compose
from portway_ibm_mq.reasons import MQError
from portway_ibm_mq.received import Received, receive
from portway_ibm_mq.session import QueueAttributes, Session
from portway_ibm_mq.settings import MQConnectionSettings


class ReplyTimeout(MQError):
    """No reply came within the timeout (reason 2033, MQRC_NO_MSG_AVAILABLE)."""

    def __init__(self, queue: str, correl_id: bytes, timeout_s: float) -> None:
        super().__init__(reasons.NO_MSG_AVAILABLE, "MQGET", queue)
        self.correl_id = correl_id
        self.timeout_s = timeout_s
        self.args = (
            f"no reply on queue {queue!r} within {timeout_s:g} s (correlation id {correl_id.hex()})",
        )

    def __str__(self) -> str:
        return str(self.args[0])


class MQClient:
    """One connection to a queue manager, as lent by the pool.

    Puts are outside syncpoint: a sent message is on its queue when
    :meth:`send` returns, whatever the calling service does next.
    """

    def __init__(self, session: Session, settings: MQConnectionSettings) -> None:
        self.session = session
        self.settings = settings

    @classmethod
    def open(cls, settings: MQConnectionSettings) -> MQClient:
        """Connect (the pool's ``connect``)."""
        return cls(open_session(settings), settings)

    def ping(self) -> str:
        """Inquire the queue manager's name; raises ``MQError`` when it cannot."""
        return self.session.queue_manager_name()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> MQClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(
        self,
        data: Any,
        queue: str,
        *,
        priority: int | None = None,
        expiry: float | None = None,
        persistence: bool | None = None,
        correlation_id: bytes | str | None = None,
        message_id: bytes | str | None = None,
        reply_to: str | None = None,
        format: str | None = None,
        headers: Mapping[str, str] | None = None,
        properties: Mapping[str, Any] | None = None,
        jms: bool | None = None,
        jms_type: str | None = None,
        reply_to_qmgr: str = "",
        msg_type: int | None = None,
    ) -> MQMD:
        """Put one message on ``queue``; return its descriptor (``msg_id`` for replies).

        ``data``: ``bytes`` as is, ``str`` as UTF-8 (format MQSTR), anything
        else as JSON (MQSTR). ``priority`` 0-9 (default: the queue's),
        ``expiry`` in seconds (default: never), ``persistence`` True/False
        (default: the queue's DEFPSIST). ``headers`` (text) and
        ``properties`` (text, numbers, booleans...) are message properties.
        ``jms`` (default: the connection's ``target_client``) sends a JMS
        message, an MQRFH2 in front of the data, with ``jms_type`` as its
        JMSType; a property JMS cannot carry is refused, naming it.
        """
        options = SendOptions(
            priority=priority,
            expiry=expiry,
            persistence=persistence,
            correlation_id=correlation_id,
            message_id=message_id,
            reply_to=reply_to,
            reply_to_qmgr=reply_to_qmgr,
            format=format,
            msg_type=msg_type,
            jms_type=jms_type,
        )
        as_jms = self.settings.target_client == "jms" if jms is None else jms
        merged = {**(headers or {}), **(properties or {})}
        message = compose(data, queue, merged, options, as_jms=as_jms, user=self.settings.user)
        return self.session.put(queue, message.body, message.md, message.properties, syncpoint=False)

    def get(
        self, queue: str, *, wait_s: float = 0, correlation_id: bytes | str | None = None
    ) -> Received | None:
        """Take one message off ``queue`` (outside syncpoint); ``None`` if none came in ``wait_s``."""
        try:
            got = self.session.get(
                queue,
                wait_ms=int(wait_s * 1000),
                syncpoint=False,
                correl_id=None if correlation_id is None else to_id(correlation_id),
            )
        except MQError as exc:
            if exc.reason == reasons.NO_MSG_AVAILABLE:
                return None
            raise
        return receive(got)

    def browse(self, queue: str, limit: int = 10) -> list[Received]:
        """The first ``limit`` messages on ``queue`` in delivery order, left where they are."""
        return [receive(message) for message in self.session.browse(queue, limit)]

    def depth(self, queue: str) -> int:
        """How many messages ``queue`` holds (CURDEPTH, counting those in units of work)."""
        return self.session.depth(queue)

    def queue_attributes(self, queue: str) -> QueueAttributes:
        """The queue's backout threshold (BOTHRESH) and backout queue (BOQNAME)."""
        return self.session.queue_attributes(queue)

    def request(
        self, data: Any, queue: str, reply_to: str, *, timeout_s: float = 30.0, **options: Any
    ) -> Received:
        """Send a request and wait for its reply on ``reply_to``.

        The reply is the message whose CorrelId is the request's MsgId (or
        the ``correlation_id`` given), MQ's usual convention; a
        :class:`ReplyTimeout` is raised when none comes within ``timeout_s``.
        """
        sent = self.send(data, queue, reply_to=reply_to, **options)
        wanted = sent.correl_id if options.get("correlation_id") is not None else sent.msg_id
        try:
            got = self.session.get(
                reply_to, wait_ms=max(0, int(timeout_s * 1000)), syncpoint=False, correl_id=wanted
            )
        except MQError as exc:
            if exc.reason == reasons.NO_MSG_AVAILABLE:
                raise ReplyTimeout(reply_to, wanted, timeout_s) from None
            raise
        return receive(got)

    def reply(self, request: Any, data: Any, **options: Any) -> MQMD:
        """Answer a request on its ReplyToQ.

        ``request`` is the request's MQMD, a received message, or a service's
        ``self.request``. The reply's CorrelId is the request's MsgId; a JMS
        request gets a JMS reply whose JMSCorrelationID is the request's
        JMSCorrelationID, or else its JMSMessageID.
        """
        md, jms_headers = _request_of(request)
        if not md.reply_to_q:
            raise ValueError("the request has no reply-to queue (MQMD ReplyToQ is empty)")
        if jms_headers is not None:
            options.setdefault("jms", True)
            options.setdefault("correlation_id", jms_headers.correlation_id or jms_headers.message_id)
        options.setdefault("correlation_id", md.msg_id)
        options.setdefault("reply_to_qmgr", "")
        options.setdefault("msg_type", MSGTYPE_REPLY)
        return self.send(data, md.reply_to_q, **options)


def _request_of(request: Any) -> tuple[MQMD, JMSHeaders | None]:
    if isinstance(request, MQMD):
        return request, None
    if isinstance(request, Received):
        return request.md, request.jms
    md = getattr(request, "mq", None)  # a service's self.request, from an ibm_mq channel
    if isinstance(md, MQMD):
        return md, getattr(request, "jms", None)
    raise TypeError(f"reply to what? give the request's MQMD or message, not {type(request).__name__}")
