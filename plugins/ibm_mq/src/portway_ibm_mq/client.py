"""The client a service gets from ``self.out.ibm_mq[name]``: send, request, reply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portway_ibm_mq import reasons
from portway_ibm_mq.backend import open_session
from portway_ibm_mq.message import (
    MQMD,
    MSGTYPE_DATAGRAM,
    MSGTYPE_REPLY,
    MSGTYPE_REQUEST,
    NOT_PERSISTENT,
    PERSISTENCE_AS_Q_DEF,
    PERSISTENT,
    UNLIMITED,
    Message,
    encode_body,
    to_id,
)
from portway_ibm_mq.reasons import MQError
from portway_ibm_mq.session import Session
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
        reply_to_qmgr: str = "",
        msg_type: int | None = None,
    ) -> MQMD:
        """Put one message on ``queue``; return its descriptor (``msg_id`` for replies).

        ``data``: ``bytes`` as is, ``str`` as UTF-8 (format MQSTR), anything
        else as JSON (MQSTR). ``priority`` 0-9 (default: the queue's),
        ``expiry`` in seconds (default: never), ``persistence`` True/False
        (default: the queue's DEFPSIST), ``headers`` become message properties.
        """
        if priority is not None and not 0 <= priority <= 9:
            raise ValueError(f"priority is 0 (lowest) to 9 (highest), got {priority}")
        if expiry is not None and expiry <= 0:
            raise ValueError(f"expiry is a number of seconds above 0, got {expiry}")
        body, fmt = encode_body(data, format)
        md = MQMD(
            msg_id=to_id(message_id),
            correl_id=to_id(correlation_id),
            priority=-1 if priority is None else priority,
            expiry=UNLIMITED if expiry is None else max(1, round(expiry * 10)),
            persistence=PERSISTENCE_AS_Q_DEF
            if persistence is None
            else (PERSISTENT if persistence else NOT_PERSISTENT),
            format=fmt,
            msg_type=msg_type
            if msg_type is not None
            else (MSGTYPE_REQUEST if reply_to else MSGTYPE_DATAGRAM),
            reply_to_q=reply_to or "",
            reply_to_q_mgr=reply_to_qmgr,
            user_identifier=self.settings.user,
            put_appl_name="portway",
        )
        return self.session.put(queue, body, md, dict(headers or {}), syncpoint=False)

    def get(
        self, queue: str, *, wait_s: float = 0, correlation_id: bytes | str | None = None
    ) -> Message | None:
        """Take one message off ``queue`` (outside syncpoint); ``None`` if none came in ``wait_s``."""
        try:
            return self.session.get(
                queue,
                wait_ms=int(wait_s * 1000),
                syncpoint=False,
                correl_id=None if correlation_id is None else to_id(correlation_id),
            )
        except MQError as exc:
            if exc.reason == reasons.NO_MSG_AVAILABLE:
                return None
            raise

    def request(
        self, data: Any, queue: str, reply_to: str, *, timeout_s: float = 30.0, **options: Any
    ) -> Message:
        """Send a request and wait for its reply on ``reply_to``.

        The reply is the message whose CorrelId is the request's MsgId (or
        the ``correlation_id`` given), MQ's usual convention; a
        :class:`ReplyTimeout` is raised when none comes within ``timeout_s``.
        """
        sent = self.send(data, queue, reply_to=reply_to, **options)
        wanted = sent.correl_id if options.get("correlation_id") is not None else sent.msg_id
        try:
            return self.session.get(
                reply_to, wait_ms=max(0, int(timeout_s * 1000)), syncpoint=False, correl_id=wanted
            )
        except MQError as exc:
            if exc.reason == reasons.NO_MSG_AVAILABLE:
                raise ReplyTimeout(reply_to, wanted, timeout_s) from None
            raise

    def reply(self, request: MQMD, data: Any, **options: Any) -> MQMD:
        """Answer a request: put ``data`` on its ReplyToQ, CorrelId = its MsgId."""
        if not request.reply_to_q:
            raise ValueError("the request has no reply-to queue (MQMD ReplyToQ is empty)")
        options.setdefault("correlation_id", request.msg_id)
        options.setdefault("reply_to_qmgr", "")
        options.setdefault("msg_type", MSGTYPE_REPLY)
        return self.send(data, request.reply_to_q, **options)
